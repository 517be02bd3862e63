//! Reading: one streaming pass over CloudTrail files, in parallel across
//! files, each record checked against the window and for duplicates
//! (`dedup`), attributed (`attribution`), mapped (`mapping`) and folded into
//! per-principal, per-action aggregates (`fold`, `activity`).

use super::activity::{max_opt, min_opt, Activity, Occurrence};
use super::attribution::{attribute, Actor};
use super::dedup::{Dedup, ReadingOrder, Seen, DEDUP_DELAY};
use super::fold::{fold_mapped, note_assume_role, Call};
use super::mapping::{EventMapper, MappedRef, RoleParam};
use super::passrole;
use crate::ingest::cloudtrail::{
    contents, discover, for_each_record, read_log_bytes, Contents, Problem, RawRecord,
};
use crate::progress::ProgressHandle;
use crate::util::{parse_time, FastMap};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Window limits (Unix seconds, inclusive); records outside are counted, not used.
#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// The audited accounts (from `iam.json`): a record whose recipient and
    /// caller are both other accounts is counted apart. `None` when they are
    /// not known: every record is then taken as the account's.
    pub accounts: Option<Arc<BTreeSet<String>>>,
    /// Keep what each role session did, per action (`who` reads it); the
    /// chains alone (who issued each session, its calls) are kept always.
    pub session_actions: bool,
}

impl IngestOptions {
    /// Whether `account` is not one of the audited accounts (never, when
    /// they are not known).
    fn foreign(&self, account: &str) -> bool {
        self.accounts.as_ref().is_some_and(|a| !a.contains(account))
    }
}

/// Reads every log file under `paths` and aggregates its records.
pub fn ingest(paths: &[PathBuf], mapper: &EventMapper, opts: IngestOptions) -> Activity {
    ingest_with_progress(paths, mapper, opts, &ProgressHandle::default())
}

/// [`ingest`], reporting one unit of progress per file read.
pub fn ingest_with_progress(
    paths: &[PathBuf],
    mapper: &EventMapper,
    opts: IngestOptions,
    progress: &ProgressHandle,
) -> Activity {
    let found = discover(paths);
    log::info!(
        "found {} log file(s), {} digest file(s) skipped",
        found.files.len(),
        found.digest_files
    );
    progress.start("reading CloudTrail files", found.files.len() as u64);
    let dedup = Dedup::new();
    let order = ReadingOrder::new(&found.files);
    // Each worker thread takes the next file from a shared counter, reads it
    // into an aggregate of its own, and merges that into the total: the
    // identities are held once, plus those of the files being read. (One
    // partial aggregate per thread, merged at the end, held every identity
    // once per thread, twice the activity at the end of reading; a rayon
    // fold, one per split.) Merging is exact in any order (`Activity::merge`).
    let next = AtomicUsize::new(0);
    let total = Mutex::new(Activity::default());
    let deferred_by_thread = rayon::broadcast(|_| {
        let mut deferred = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(_, path)) = order.files.get(i) else {
                break;
            };
            let mut acc = Activity::default();
            deferred.extend(ingest_file(path, mapper, &opts, &dedup, &mut acc));
            // A panic while merging poisons the lock; the panic itself
            // reaches the caller through `broadcast`.
            total
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .merge(acc);
            if let Some(horizon) = order.finished(i) {
                dedup.release_before(horizon);
            }
            progress.advance(1);
        }
        deferred
    });
    let mut total = total.into_inner().unwrap_or_else(PoisonError::into_inner);
    let deferred: Vec<Deferred> = deferred_by_thread.into_iter().flatten().collect();
    settle(deferred, &dedup, mapper, &mut total);
    progress.finish();
    log::info!(
        "{} records: {} mapped, {} skipped, {} duplicate",
        total.stats.records,
        total.stats.mapped,
        total.stats.records_skipped,
        total.stats.duplicates
    );
    total.stats.digest_files += found.digest_files as u64;
    total.problems.extend(found.problems);
    total
        .problems
        .sort_by(|a, b| (&a.file, &a.location).cmp(&(&b.file, &b.location)));
    total
}

fn ingest_file(
    path: &Path,
    mapper: &EventMapper,
    opts: &IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) -> Vec<Deferred> {
    acc.stats.files += 1;
    let bytes = read_log_bytes(path);
    fold_file(path, bytes, mapper, opts, dedup, acc)
}

/// The resource owner's copy of a call across accounts (`sharedEventID`,
/// a `recipientAccountId` other than the caller's): when the caller's own
/// copy is among the logs read (an organization trail delivers both), it is
/// the same call, counted once, as the caller's. Which copy comes first is
/// not known while reading, so the owner's copies wait to the end.
struct Deferred {
    shared: String,
    actor: Actor<'static>,
    source: String,
    name: String,
    error_code: Option<String>,
    /// How the call was made (`usage::channel`).
    channel: String,
    /// Read for refusals: the action and policy type it names.
    error_message: Option<String>,
    time: i64,
    resources: Vec<String>,
}

/// Counts each deferred owner's copy: a duplicate when its caller's copy
/// was read, else a call like any other.
fn settle(deferred: Vec<Deferred>, dedup: &Dedup, mapper: &EventMapper, acc: &mut Activity) {
    let mut scratch = Vec::new();
    for d in deferred {
        if dedup.caller_copy_seen(&d.shared) {
            acc.stats.duplicates += 1;
            continue;
        }
        let Deferred {
            actor,
            source,
            name,
            error_code,
            channel,
            error_message,
            time,
            resources,
            ..
        } = d;
        super::fold::fold(
            acc,
            mapper,
            &actor,
            Call {
                source: &source,
                name: &name,
                error_code: error_code.as_deref(),
                channel: &channel,
                error_message: error_message.as_deref(),
            },
            occ(time),
            |out| out.extend(resources),
            &mut scratch,
        );
    }
}

/// Aggregates the records of one log file's contents (as read from disk, gzip
/// or not), as the ingestion does for each file; for fuzzing and tests.
pub fn ingest_bytes(
    name: &Path,
    raw: Vec<u8>,
    mapper: &EventMapper,
    opts: IngestOptions,
) -> Activity {
    let mut acc = Activity::default();
    acc.stats.files += 1;
    let bytes = crate::ingest::cloudtrail::decode_log_bytes(raw);
    let dedup = Dedup::new();
    let deferred = fold_file(name, bytes, mapper, &opts, &dedup, &mut acc);
    settle(deferred, &dedup, mapper, &mut acc);
    acc
}

fn fold_file(
    path: &Path,
    bytes: Result<Vec<u8>, String>,
    mapper: &EventMapper,
    opts: &IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) -> Vec<Deferred> {
    let bytes = match bytes {
        Ok(b) => b,
        Err(message) => {
            acc.stats.files_failed += 1;
            acc.problems.push(Problem {
                file: path.to_path_buf(),
                location: String::new(),
                message,
            });
            return Vec::new();
        }
    };
    let mut problems = Vec::new();
    let bytes = match contents(path, bytes) {
        Contents::Records(b) => b,
        Contents::Digest => {
            // Renamed or copied out of `CloudTrail-Digest/`: not a log file.
            acc.stats.files -= 1;
            acc.stats.digest_files += 1;
            return Vec::new();
        }
        Contents::LookupEvents { text, broken, .. } => {
            acc.stats.lookup_files += 1;
            problems.extend(broken);
            text
        }
    };
    let unwrap_broken = !problems.is_empty();
    let mut rejected = Vec::new();
    let mut file = PerFile::new(mapper);
    let count = for_each_record(
        path,
        &bytes,
        |i, rec| {
            let r = record(&rec, &mut file, opts, dedup, acc);
            if let Err(message) = r {
                rejected.push(Problem {
                    file: path.to_path_buf(),
                    location: format!("record {i}"),
                    message,
                });
            }
        },
        &mut problems,
    );
    acc.stats.records += count.records as u64;
    // Every record not handed over, and every record refused, is skipped.
    acc.stats.records_skipped += (count.bad_records + rejected.len()) as u64;
    if count.broken || unwrap_broken {
        acc.stats.files_failed += 1;
    }
    acc.problems.extend(problems);
    acc.problems.extend(rejected);
    let late = file.late;
    if late > 0 {
        // Counted, not skipped: the report says which copies may be doubled.
        acc.problems.push(Problem {
            file: path.to_path_buf(),
            location: format!("{late} record(s)"),
            message: format!(
                "delivered more than {} hours after the event (by the file's name): checked for duplicates only against the events still held, so a copy read earlier may be counted twice",
                DEDUP_DELAY / 3600
            ),
        });
    }
    file.deferred
}

/// What the mapping says of one event: its actions, its service prefix,
/// and the parameters through which it passes a role, if it does.
type Event<'a> = (MappedRef<'a>, &'a str, Option<&'a [RoleParam]>);

/// What the records of one file share while it is read.
struct PerFile<'a> {
    mapper: &'a EventMapper,
    /// Each distinct event of the file mapped once, with its service
    /// prefix: a file repeats a few dozen events many times, and mapping one
    /// (lowercasing, three hash lookups and two binary searches) was a
    /// tenth of the ingestion's CPU. Keyed by the event source and name as
    /// borrowed from the file's text.
    events: FastMap<(&'a str, &'a str), Event<'a>>,
    /// The resources of the current record, reused from record to record.
    resources: Vec<String>,
    /// Records delivered too late to be checked against every duplicate.
    late: u64,
    /// Resource owners' copies of cross-account calls, counted at the end.
    deferred: Vec<Deferred>,
}

impl<'a> PerFile<'a> {
    fn new(mapper: &'a EventMapper) -> Self {
        PerFile {
            mapper,
            events: FastMap::default(),
            resources: Vec::new(),
            late: 0,
            deferred: Vec::new(),
        }
    }

    /// The mapping and service prefix of an event; `source` and `name` are
    /// only kept when they borrow from the file (an escaped string is an
    /// owned copy).
    fn map<'r>(
        &mut self,
        source: &'r Cow<'a, str>,
        name: &'r Cow<'a, str>,
    ) -> (MappedRef<'a>, &'r str, Option<&'a [RoleParam]>) {
        let mapper = self.mapper;
        let (Cow::Borrowed(s), Cow::Borrowed(n)) = (source, name) else {
            return (
                mapper.map_ref(source, name),
                mapper.service_prefix(source),
                mapper.role_params(source, name),
            );
        };
        *self.events.entry((s, n)).or_insert_with(|| {
            (
                mapper.map_ref(s, n),
                mapper.service_prefix(s),
                mapper.role_params(s, n),
            )
        })
    }
}

/// The kind of a record, by `eventType` and `eventCategory` (CloudTrail
/// record contents): decided before its name is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// An API call (`AwsApiCall`), or a record that does not say.
    Call,
    /// `AwsConsoleSignIn`: authentication, never an IAM-authorized call.
    SignIn,
    /// `AwsServiceEvent`: AWS acting on its own, never a principal's call.
    ServiceEvent,
    /// `AwsVpceEvent` / `NetworkActivity`: a call seen by a VPC endpoint.
    Network,
    /// `AwsCloudTrailInsight`: a rate of unusual activity.
    Insight,
}

fn kind(rec: &RawRecord<'_>) -> Kind {
    match (rec.event_type.as_deref(), rec.event_category.as_deref()) {
        (Some("AwsCloudTrailInsight"), _) | (_, Some("Insight")) => Kind::Insight,
        (Some("AwsVpceEvent" | "AwsVpceEvents"), _) | (_, Some("NetworkActivity")) => Kind::Network,
        (Some("AwsServiceEvent"), _) => Kind::ServiceEvent,
        (Some("AwsConsoleSignIn"), _) => Kind::SignIn,
        _ => Kind::Call,
    }
}

/// The account of the identity that made a call: `userIdentity.accountId`,
/// else the account of its ARN.
fn caller_account<'r>(rec: &'r RawRecord<'_>) -> Option<&'r str> {
    let id = rec.user_identity.as_ref()?;
    id.account_id
        .as_deref()
        .or_else(|| id.arn.as_deref().and_then(|a| a.split(':').nth(4)))
        .filter(|a| !a.is_empty())
}

fn record<'a>(
    rec: &RawRecord<'a>,
    file: &mut PerFile<'a>,
    opts: &IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) -> Result<(), String> {
    let time = rec.event_time.as_deref().ok_or("missing `eventTime`")?;
    let t =
        parse_time(time).ok_or_else(|| format!("missing valid `eventTime` (found `{time}`)"))?;
    // Before the window and account checks: a key issued before the window,
    // or by a call of another account's, still links a session of the window.
    acc.chains.note_issue(rec, t);
    if opts.since.is_some_and(|s| t < s) || opts.until.is_some_and(|u| t > u) {
        acc.stats.outside_window += 1;
        return Ok(());
    }
    if let Some(id) = rec.event_id.as_deref() {
        match dedup.check(id, t) {
            Seen::First => {}
            Seen::Late => file.late += 1,
            Seen::Duplicate => {
                acc.stats.duplicates += 1;
                return Ok(());
            }
        }
    }
    // A record of other accounts only: an organization trail's, or the
    // logs of another account given by mistake.
    let recipient = rec.recipient_account_id.as_deref();
    if recipient.is_some_and(|r| opts.foreign(r))
        && caller_account(rec).is_none_or(|c| opts.foreign(c))
    {
        acc.stats.other_account += 1;
        return Ok(());
    }
    // The account whose trail shows the record: its recipient (the caller's
    // when the recipient is not audited), for evidence per account.
    let owner = recipient
        .filter(|r| !opts.foreign(r))
        .or_else(|| caller_account(rec));
    let kind = kind(rec);
    match kind {
        Kind::Insight => {
            acc.stats.insights += 1;
            acc.stats.count_account_record(owner);
            return Ok(());
        }
        // Let through by the endpoint: the call itself has its own record
        // (if the trail logs it). Refused by it: this is its only record.
        Kind::Network if rec.error_code.as_deref() != Some("VpceAccessDenied") => {
            acc.stats.network_activity += 1;
            acc.stats.count_account_record(owner);
            return Ok(());
        }
        _ => {}
    }
    let (Some(source_cow), Some(name_cow)) = (&rec.event_source, &rec.event_name) else {
        return Err(if rec.event_source.is_none() {
            "missing `eventSource`"
        } else {
            "missing `eventName`"
        }
        .into());
    };
    let (source, name) = (source_cow.as_ref(), name_cow.as_ref());
    let stats = &mut acc.stats;
    stats.count_account_record(owner);
    stats.first_event = min_opt(stats.first_event, Some(t));
    stats.last_event = max_opt(stats.last_event, Some(t));

    let actor = rec
        .user_identity
        .as_ref()
        .and_then(attribute)
        .filter(|_| kind != Kind::ServiceEvent);
    let (mapped, prefix, passes) = file.map(source_cow, name_cow);
    // A call across accounts is delivered to each: count it once, as the
    // caller's copy, when that copy can be in these logs.
    if let (Some(actor), Some(shared), Some(r), Some(c)) = (
        &actor,
        rec.shared_event_id.as_deref(),
        recipient,
        caller_account(rec),
    ) {
        if r == c {
            dedup.note_caller_copy(shared);
        } else if !opts.foreign(c) {
            let mut resources = Vec::new();
            super::resources::extract(rec, prefix, &mut resources);
            file.deferred.push(Deferred {
                shared: shared.to_string(),
                actor: actor.clone().into_owned(),
                source: source.to_string(),
                name: name.to_string(),
                error_code: rec.error_code.as_deref().map(str::to_string),
                channel: file.mapper.channels().of(rec).to_string(),
                error_message: rec.error_message.as_deref().map(str::to_string),
                time: t,
                resources,
            });
            return Ok(());
        }
    }
    // Session tags of AssumeRole calls, whoever made them (often a service).
    note_assume_role(rec, source, name, acc);
    let Some(actor) = actor else {
        acc.stats.service_records += 1;
        return Ok(());
    };
    let mapped = if kind == Kind::SignIn {
        MappedRef::NotIam
    } else {
        mapped
    };
    let channel = file.mapper.channels().of(rec);
    // A role session's call, by the key it was signed with: the chain
    // behind it is resolved once every record is read.
    if let Some(key) = rec
        .user_identity
        .as_ref()
        .filter(|u| u.kind.as_deref() == Some("AssumedRole"))
        .and_then(|u| u.access_key_id.as_deref())
        .filter(|k| !k.is_empty())
    {
        let outcome = file
            .mapper
            .error_codes()
            .classify(
                source,
                rec.error_code.as_deref(),
                rec.error_message.as_deref(),
            )
            .outcome;
        acc.chains
            .note_use(key, &actor, mapped, outcome, t, opts.session_actions);
    }
    fold_mapped(
        acc,
        file.mapper,
        mapped,
        &actor,
        Call {
            source,
            name,
            error_code: rec.error_code.as_deref(),
            channel,
            error_message: rec.error_message.as_deref(),
        },
        occ(t),
        |out| super::resources::extract(rec, prefix, out),
        &mut file.resources,
    );
    // A call that passed a role is also a use of iam:PassRole on it.
    if let (Some(params), Some(request), None | Some("")) =
        (passes, rec.request_parameters, rec.error_code.as_deref())
    {
        let account = caller_account(rec).or(recipient).unwrap_or_default();
        let passed = passrole::passed(params, request, account);
        if passed != passrole::Passed::default() {
            // Named as the action the call needed, as recommend names it.
            let cat = file.mapper.catalog();
            let call = match mapped {
                MappedRef::Action(id) => cat.full_name(id),
                MappedRef::Actions([id, ..]) => cat.full_name(*id),
                _ => format!("{prefix}:{name}"),
            };
            passrole::fold_passed(acc, file.mapper, &actor, passed, &call, occ(t));
        }
    }
    Ok(())
}

fn occ(t: i64) -> Occurrence {
    Occurrence {
        count: 1,
        first: t,
        last: t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Everything the activity says of its identities, in a stable order.
    fn identities(a: &Activity) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = a
            .actors
            .iter()
            .map(|(k, v)| (k.clone(), format!("{v:?}")))
            .collect();
        out.sort();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// The records dealt to files read by parallel threads, each file's
        /// aggregate merged into the total as it is read, give the
        /// identities that one pass over one file gives: calls, sessions,
        /// channels, refusals, resource samples and summaries, changes.
        #[test]
        fn files_merged_as_read_give_what_one_pass_gives(
            calls in proptest::collection::vec(
                (0usize..4, 0usize..5, 0usize..30, 0usize..3, any::<bool>()),
                1..160,
            ),
            files in 1usize..7,
        ) {
            const EVENTS: [(&str, &str); 5] = [
                ("s3.amazonaws.com", "GetObject"),
                ("s3.amazonaws.com", "PutObject"),
                ("ec2.amazonaws.com", "RunInstances"),
                ("kms.amazonaws.com", "Decrypt"),
                ("sts.amazonaws.com", "GetCallerIdentity"),
            ];
            let cat = crate::catalog::Catalog::embedded();
            let mapper = EventMapper::embedded(cat).expect("shipped rules");
            let records: Vec<String> = calls
                .iter()
                .enumerate()
                .map(|(i, &(who, ev, key, session, denied))| {
                    let (source, name) = EVENTS[ev];
                    let error = if denied {
                        r#","errorCode":"AccessDenied","errorMessage":"not authorized""#
                    } else {
                        ""
                    };
                    format!(
                        r#"{{"eventTime":"2026-10-01T00:{:02}:{:02}Z","eventID":"e-{i}","eventSource":"{source}","eventName":"{name}","userIdentity":{{"type":"AssumedRole","accountId":"111122223333","arn":"arn:aws:sts::111122223333:assumed-role/r{who}/s{session}","accessKeyId":"ASIA{who}{session}","sessionContext":{{"sessionIssuer":{{"type":"Role","arn":"arn:aws:iam::111122223333:role/r{who}"}}}}}},"requestParameters":{{"bucketName":"b","key":"k/{key}"}},"recipientAccountId":"111122223333"{error}}}"#,
                        i / 60,
                        i % 60
                    )
                })
                .collect();
            let one = ingest_bytes(
                Path::new("all.json"),
                format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes(),
                &mapper,
                IngestOptions::default(),
            );
            let dir = tempfile::tempdir().expect("temp dir");
            for f in 0..files {
                let mine: Vec<&str> = records
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| i % files == f)
                    .map(|(_, r)| r.as_str())
                    .collect();
                std::fs::write(
                    dir.path().join(format!("f{f}.json")),
                    format!(r#"{{"Records":[{}]}}"#, mine.join(",")),
                )
                .expect("write");
            }
            let many = ingest(&[dir.path().to_path_buf()], &mapper, IngestOptions::default());
            prop_assert!(!one.actors.is_empty() && one.stats.mapped > 0);
            prop_assert_eq!(many.stats.records, one.stats.records);
            prop_assert_eq!(many.stats.files, files as u64);
            prop_assert_eq!(identities(&many), identities(&one));
        }
    }
    use crate::usage::Outcome;

    /// Evidence per account: a record counts for its recipient account, or
    /// for its caller's when the recipient is not audited.
    #[test]
    fn records_are_counted_per_account() {
        let cat = crate::catalog::Catalog::embedded();
        let mapper = EventMapper::embedded(cat).expect("shipped rules");
        let rec = |caller: &str, recipient: &str| {
            format!(
                r#"{{"eventTime":"2026-10-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","userIdentity":{{"type":"IAMUser","accountId":"{caller}","arn":"arn:aws:iam::{caller}:user/u"}},"recipientAccountId":"{recipient}"}}"#
            )
        };
        let text = format!(
            r#"{{"Records":[{},{},{},{}]}}"#,
            rec("1", "1"),
            rec("1", "2"),
            rec("1", "9"),
            rec("8", "9")
        );
        let acc = ingest_bytes(
            Path::new("f.json"),
            text.into_bytes(),
            &mapper,
            IngestOptions {
                accounts: Some(Arc::new(["1".to_string(), "2".to_string()].into())),
                ..Default::default()
            },
        );
        let by = &acc.stats.account_records_by;
        assert_eq!(by.get("1"), Some(&2), "{by:?}");
        assert_eq!(by.get("2"), Some(&1), "{by:?}");
        assert_eq!(acc.stats.account_records, 3);
        assert_eq!(acc.stats.other_account, 1);
    }

    /// Records of one event share a mapping within a file, whether their
    /// strings borrow from the text or, escaped, are owned copies: the
    /// three calls count as one action with three resources.
    #[test]
    fn an_event_maps_the_same_borrowed_or_escaped() {
        let cat = crate::catalog::Catalog::embedded();
        let mapper = EventMapper::embedded(cat).expect("shipped rules");
        let rec = |name: &str, bucket: &str| {
            format!(
                r#"{{"eventTime":"2026-10-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"{name}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/u"}},"requestParameters":{{"bucketName":"{bucket}"}}}}"#
            )
        };
        let text = format!(
            r#"{{"Records":[{},{},{}]}}"#,
            rec("ListObjects", "a"),
            rec("ListObj\\u0065cts", "b"),
            rec("ListObjects", "c")
        );
        let acc = ingest_bytes(
            Path::new("f.json"),
            text.into_bytes(),
            &mapper,
            IngestOptions::default(),
        );
        assert!(acc.problems.is_empty(), "{:?}", acc.problems);
        let actor = &acc.actors["arn:aws:iam::111122223333:user/u"];
        let id = cat.lookup("s3:ListBucket").expect("catalog action");
        let stats = actor
            .actions
            .get(&(id, Outcome::Success))
            .expect("mapped to s3:ListBucket");
        assert_eq!(stats.count, 3);
        assert_eq!(stats.resources.len(), 3, "{:?}", stats.resources);
        assert_eq!(actor.actions.len(), 1);
    }
}

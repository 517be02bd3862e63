//! One streaming pass over CloudTrail files, in parallel across files, folding
//! records into per-principal, per-action aggregates.

use super::attribution::{attribute, ActorKind};
use super::mapping::{EventMapper, MappedRef};
use crate::catalog::ActionId;
use crate::ingest::cloudtrail::{discover, for_each_record, read_log_bytes, Problem, RawRecord};
use crate::progress::ProgressHandle;
use crate::util::{parse_time, FastMap};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// How many distinct resources are kept as evidence per principal and action.
pub const RESOURCE_SAMPLES: usize = 20;

/// Whether a call went through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Success,
    /// Refused for lack of permission (AccessDenied and its relatives).
    Denied,
    /// Failed for another reason: an attempt, not use.
    Error,
}

/// Evidence for one principal, action and outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionStats {
    pub count: u64,
    /// Unix seconds.
    pub first: i64,
    pub last: i64,
    /// Up to `RESOURCE_SAMPLES` distinct resource ARNs: the smallest names,
    /// so that the sample does not depend on the order of reading.
    pub resources: ResourceSample,
    /// More distinct resources were seen than are kept.
    pub resources_truncated: bool,
    /// Services that made the call on the principal's behalf, with counts.
    pub invoked_by: Counts,
    pub error_codes: Counts,
}

impl ActionStats {
    /// ` via svc1, svc2` when services made the calls on the principal's behalf.
    pub fn via_suffix(&self) -> String {
        if self.invoked_by.is_empty() {
            String::new()
        } else {
            format!(
                " via {}",
                self.invoked_by.keys().collect::<Vec<_>>().join(", ")
            )
        }
    }

    fn add(
        &mut self,
        occ: Occurrence,
        resources: &[String],
        via: Option<&str>,
        error: Option<&str>,
    ) {
        if self.count == 0 || occ.first < self.first {
            self.first = occ.first;
        }
        if self.count == 0 || occ.last > self.last {
            self.last = occ.last;
        }
        self.count += occ.count;
        for r in resources {
            self.resources_truncated |= self.resources.insert(r);
        }
        if let Some(v) = via {
            self.invoked_by.add(v, occ.count);
        }
        if let Some(e) = error {
            self.error_codes.add(e, occ.count);
        }
    }

    fn merge(&mut self, o: ActionStats) {
        if self.count == 0 {
            *self = o;
            return;
        }
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.count += o.count;
        self.resources_truncated |= o.resources_truncated;
        self.resources_truncated |= self.resources.merge(o.resources);
        self.invoked_by.merge(o.invoked_by);
        self.error_codes.merge(o.error_codes);
    }
}

/// Up to `RESOURCE_SAMPLES` distinct resource names, sorted, keeping the
/// smallest: the same sample whatever order the files were read in, by
/// however many threads. A sorted vector of boxed names rather than a
/// `BTreeSet<String>`: an account has a sample per principal and action
/// (hundreds of thousands at 10,000 principals), and the B-tree's nodes and
/// the strings' spare capacity were most of the activity's memory. A boxed
/// slice: sized exactly, and 8 bytes smaller than a vector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceSample(Box<[Box<str>]>);

/// Inserts `x` at `at` in a boxed slice, dropping the last element first
/// when `evict`; one reallocation at most, as a vector grown exactly would.
fn splice<T>(b: &mut Box<[T]>, at: usize, x: T, evict: bool) {
    let mut v = std::mem::take(b).into_vec();
    if evict {
        v.pop();
    } else {
        v.reserve_exact(1);
    }
    v.insert(at.min(v.len()), x);
    *b = v.into_boxed_slice();
}

impl ResourceSample {
    /// Adds `r`; true when a resource was left out (`r`, or the largest name,
    /// which `r` displaced).
    pub fn insert(&mut self, r: &str) -> bool {
        let (at, left_out) = self.place(r);
        if let Some(at) = at {
            splice(&mut self.0, at, r.into(), left_out);
        }
        left_out
    }

    /// Adds the other sample's names, moving them rather than copying; true
    /// when a name was left out.
    pub fn merge(&mut self, other: ResourceSample) -> bool {
        let mut left_out = false;
        for r in other.0 {
            let (at, out) = self.place(&r);
            if let Some(at) = at {
                splice(&mut self.0, at, r, out);
            }
            left_out |= out;
        }
        left_out
    }

    /// Where `r` goes, or `None` when it is already there or left out; and
    /// whether a name is left out (when the sample is full, the largest name
    /// makes room for `r`).
    fn place(&self, r: &str) -> (Option<usize>, bool) {
        match self.0.binary_search_by(|x| (**x).cmp(r)) {
            Ok(_) => (None, false),
            Err(at) if self.0.len() < RESOURCE_SAMPLES => (Some(at), false),
            Err(at) if at < self.0.len() => (Some(at), true),
            Err(_) => (None, true),
        }
    }

    /// The names, smallest first.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + Clone {
        self.0.iter().map(|r| &**r)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, r: &str) -> bool {
        self.0.binary_search_by(|x| (**x).cmp(r)).is_ok()
    }

    /// The names as owned strings, for the report types.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(String::from).collect()
    }
}

/// Serialized as a list of names (the activity store's sidecar); reading
/// keeps the smallest `RESOURCE_SAMPLES`, as adding them one by one would.
impl serde::Serialize for ResourceSample {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for ResourceSample {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<String>::deserialize(d)?.into_iter().collect())
    }
}

impl<S: AsRef<str>> FromIterator<S> for ResourceSample {
    /// The smallest `RESOURCE_SAMPLES` of the names; use `insert` to learn
    /// whether any were left out.
    fn from_iter<I: IntoIterator<Item = S>>(names: I) -> Self {
        let mut s = ResourceSample::default();
        for r in names {
            s.insert(r.as_ref());
        }
        s
    }
}

/// Counts by name (error codes, calling services), sorted by name. Almost
/// always one or two entries, for every principal and action: a sorted
/// vector holds them in one small block, where a `BTreeMap` allocated a
/// node of eleven slots (about 400 bytes) for the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts(Box<[(Box<str>, u64)]>);

impl Counts {
    /// Adds `n` to `key`'s count, allocating the key only the first time.
    pub fn add(&mut self, key: &str, n: u64) {
        match self.0.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => self.0[i].1 += n,
            Err(i) => splice(&mut self.0, i, (key.into(), n), false),
        }
    }

    /// Adds the other counts, moving their keys.
    pub fn merge(&mut self, other: Counts) {
        if self.0.is_empty() {
            *self = other;
            return;
        }
        for (k, n) in other.0 {
            match self.0.binary_search_by(|(x, _)| x.cmp(&k)) {
                Ok(i) => self.0[i].1 += n,
                Err(i) => splice(&mut self.0, i, (k, n), false),
            }
        }
    }

    /// The names and counts, by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, u64)> + Clone {
        self.0.iter().map(|(k, n)| (&**k, *n))
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.0.iter().map(|(k, _)| &**k)
    }

    pub fn get(&self, key: &str) -> Option<u64> {
        let i = self.0.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(self.0[i].1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: AsRef<str>> FromIterator<(K, u64)> for Counts {
    fn from_iter<I: IntoIterator<Item = (K, u64)>>(items: I) -> Self {
        let mut c = Counts::default();
        for (k, n) in items {
            c.add(k.as_ref(), n);
        }
        c
    }
}

/// Serialized as a JSON object of counts, by name: what the
/// `BTreeMap<String, u64>` it replaced wrote.
impl serde::Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for Counts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<String, u64>::deserialize(d)?
            .into_iter()
            .collect())
    }
}

/// An identity's evidence per action and outcome: the keys sorted, the
/// evidence in a vector beside them, both grown one entry at a time. An
/// identity has a few dozen entries; a hash map of them allocated up to twice
/// the slots it used, for each of 10,000 identities in each reading thread
/// (69 MB of a 116 MB ingestion heap at 1M events, heaptrack).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionMap {
    keys: Vec<(ActionId, Outcome)>,
    stats: Vec<ActionStats>,
}

impl ActionMap {
    /// The evidence for `key`, added empty the first time.
    pub fn stats_mut(&mut self, key: (ActionId, Outcome)) -> &mut ActionStats {
        let i = match self.keys.binary_search(&key) {
            Ok(i) => i,
            Err(i) => {
                self.keys.reserve_exact(1);
                self.stats.reserve_exact(1);
                self.keys.insert(i, key);
                self.stats.insert(i, ActionStats::default());
                i
            }
        };
        &mut self.stats[i]
    }

    /// Sets the evidence for `key`, replacing any.
    pub fn insert(&mut self, key: (ActionId, Outcome), stats: ActionStats) {
        *self.stats_mut(key) = stats;
    }

    pub fn get(&self, key: &(ActionId, Outcome)) -> Option<&ActionStats> {
        let i = self.keys.binary_search(key).ok()?;
        self.stats.get(i)
    }

    /// By action id, then outcome.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&(ActionId, Outcome), &ActionStats)> {
        self.keys.iter().zip(&self.stats)
    }

    pub fn keys(&self) -> impl ExactSizeIterator<Item = &(ActionId, Outcome)> {
        self.keys.iter()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl IntoIterator for ActionMap {
    type Item = ((ActionId, Outcome), ActionStats);
    type IntoIter =
        std::iter::Zip<std::vec::IntoIter<(ActionId, Outcome)>, std::vec::IntoIter<ActionStats>>;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.into_iter().zip(self.stats)
    }
}

impl<'a> IntoIterator for &'a ActionMap {
    type Item = (&'a (ActionId, Outcome), &'a ActionStats);
    type IntoIter = std::iter::Zip<
        std::slice::Iter<'a, (ActionId, Outcome)>,
        std::slice::Iter<'a, ActionStats>,
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.keys.iter().zip(&self.stats)
    }
}

/// Adds `n` to a count, allocating the key only the first time it is seen.
fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    match map.get_mut(key) {
        Some(v) => *v += n,
        None => {
            map.insert(key.to_string(), n);
        }
    }
}

/// Everything one identity did in the window.
#[derive(Clone, Debug)]
pub struct ActorActivity {
    pub kind: ActorKind,
    /// Empty in a principal's audit: the evidence moved into its used,
    /// denied and failed lists.
    pub actions: ActionMap,
    pub source_identities: BTreeMap<String, u64>,
    pub sessions: BTreeMap<String, u64>,
    /// Per end user (`sourceIdentity`), up to `RESOURCE_SAMPLES` resources touched.
    pub resources_by_source_identity: BTreeMap<String, ResourceSample>,
    /// Assumed-role records whose session carried no `sourceIdentity`.
    pub sessions_without_source_identity: u64,
    /// Events that are not IAM actions (console sign-in, SSO portal), by `source:name`.
    pub non_iam: BTreeMap<String, u64>,
    /// Events we could not map to a catalog action, by `source:name`.
    pub unmapped: BTreeMap<String, u64>,
    pub records: u64,
    pub first: i64,
    pub last: i64,
}

impl ActorActivity {
    /// An identity with no activity yet.
    pub fn empty(kind: ActorKind) -> Self {
        ActorActivity {
            kind,
            actions: ActionMap::default(),
            source_identities: BTreeMap::new(),
            sessions: BTreeMap::new(),
            resources_by_source_identity: BTreeMap::new(),
            sessions_without_source_identity: 0,
            non_iam: BTreeMap::new(),
            unmapped: BTreeMap::new(),
            records: 0,
            first: i64::MAX,
            last: i64::MIN,
        }
    }

    /// Adds another activity of the same identity.
    pub fn merge(&mut self, o: ActorActivity) {
        for (k, v) in o.actions {
            self.actions.stats_mut(k).merge(v);
        }
        for (map, other) in [
            (&mut self.source_identities, o.source_identities),
            (&mut self.sessions, o.sessions),
            (&mut self.non_iam, o.non_iam),
            (&mut self.unmapped, o.unmapped),
        ] {
            for (k, v) in other {
                *map.entry(k).or_default() += v;
            }
        }
        for (k, v) in o.resources_by_source_identity {
            self.resources_by_source_identity
                .entry(k)
                .or_default()
                .merge(v);
        }
        self.sessions_without_source_identity += o.sessions_without_source_identity;
        self.records += o.records;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }
}

/// Counts that make the evidence coverage of a report. Serialized as is in
/// the activity store's sidecar (`leastpriv.activity/v1`): renaming a field
/// changes that schema.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IngestStats {
    pub files: u64,
    pub files_failed: u64,
    pub digest_files: u64,
    pub records: u64,
    /// Records that could not be parsed or lacked required fields.
    pub records_skipped: u64,
    pub outside_window: u64,
    /// Records seen before under the same `eventID`, counted once.
    pub duplicates: u64,
    /// Records made by AWS services themselves (never principals).
    pub service_records: u64,
    pub mapped: u64,
    pub no_permission: u64,
    pub not_iam: u64,
    pub unmapped: u64,
    pub unmapped_events: BTreeMap<String, u64>,
    /// First and last event time seen (Unix seconds), if any.
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
}

impl IngestStats {
    fn merge(&mut self, o: IngestStats) {
        self.files += o.files;
        self.files_failed += o.files_failed;
        self.digest_files += o.digest_files;
        self.records += o.records;
        self.records_skipped += o.records_skipped;
        self.outside_window += o.outside_window;
        self.duplicates += o.duplicates;
        self.service_records += o.service_records;
        self.mapped += o.mapped;
        self.no_permission += o.no_permission;
        self.not_iam += o.not_iam;
        self.unmapped += o.unmapped;
        for (k, v) in o.unmapped_events {
            *self.unmapped_events.entry(k).or_default() += v;
        }
        self.first_event = min_opt(self.first_event, o.first_event);
        self.last_event = max_opt(self.last_event, o.last_event);
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// Aggregated activity of every identity in the logs.
#[derive(Clone, Debug, Default)]
pub struct Activity {
    pub actors: FastMap<String, ActorActivity>,
    /// Sessions granted by `sts:AssumeRole*` calls, by the assumed role's ARN:
    /// the only place CloudTrail shows session tags.
    pub sessions_granted: HashMap<String, SessionsGranted>,
    pub stats: IngestStats,
    pub problems: Vec<Problem>,
}

/// What the AssumeRole calls for one role asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionsGranted {
    pub count: u64,
    /// Session tag key to the values seen.
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// Who called AssumeRole (principal ARN or service), with counts.
    pub callers: BTreeMap<String, u64>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct AssumeRoleParams<'a> {
    #[serde(borrow)]
    role_arn: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    tags: Vec<SessionTag<'a>>,
}

#[derive(serde::Deserialize)]
struct SessionTag<'a> {
    #[serde(borrow)]
    key: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    value: Option<std::borrow::Cow<'a, str>>,
}

/// Keeps the session tags of successful AssumeRole* calls, per role.
fn note_assume_role(rec: &RawRecord<'_>, source: &str, name: &str, acc: &mut Activity) {
    if source != "sts.amazonaws.com" || !name.starts_with("AssumeRole") || rec.error_code.is_some()
    {
        return;
    }
    let Some(raw) = rec.request_parameters else {
        return;
    };
    let Ok(p) = serde_json::from_str::<AssumeRoleParams>(raw) else {
        return;
    };
    let Some(role) = p.role_arn else { return };
    let e = acc.sessions_granted.entry(role.into_owned()).or_default();
    e.count += 1;
    for t in p.tags {
        if let (Some(k), Some(v)) = (t.key, t.value) {
            let vals = e.tags.entry(k.into_owned()).or_default();
            if vals.len() < RESOURCE_SAMPLES {
                vals.insert(v.into_owned());
            }
        }
    }
    let caller = rec
        .user_identity
        .as_ref()
        .and_then(|u| u.arn.as_deref().or(u.invoked_by.as_deref()))
        .unwrap_or("unknown");
    *e.callers.entry(caller.to_string()).or_default() += 1;
}

impl Activity {
    fn merge(&mut self, o: Activity) {
        for (k, v) in o.actors {
            match self.actors.get_mut(&k) {
                Some(a) => a.merge(v),
                None => {
                    self.actors.insert(k, v);
                }
            }
        }
        for (k, v) in o.sessions_granted {
            let e = self.sessions_granted.entry(k).or_default();
            e.count += v.count;
            for (tk, tv) in v.tags {
                e.tags.entry(tk).or_default().extend(tv);
            }
            for (c, n) in v.callers {
                *e.callers.entry(c).or_default() += n;
            }
        }
        self.stats.merge(o.stats);
        self.problems.extend(o.problems);
    }
}

/// Window limits (Unix seconds, inclusive); records outside are counted, not used.
#[derive(Clone, Copy, Debug, Default)]
pub struct IngestOptions {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Access errors: the call was refused for lack of permission.
pub fn is_access_denied(code: &str) -> bool {
    let c = code.to_ascii_lowercase();
    c.contains("accessdenied")
        || c.contains("unauthorized")
        || c == "forbidden"
        || c == "forbiddenexception"
        || c.contains("notauthorized")
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
    // One partial aggregate per worker thread, each taking the next file
    // from a shared counter: a rayon fold keeps one partial per split (up to
    // dozens, each with every identity in its files), which held most of the
    // ingestion's memory at 10,000 identities.
    let next = AtomicUsize::new(0);
    let partials = rayon::broadcast(|_| {
        let mut acc = Activity::default();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(_, path)) = order.files.get(i) else {
                break;
            };
            ingest_file(path, mapper, opts, &dedup, &mut acc);
            if let Some(horizon) = order.finished(i) {
                dedup.release_before(horizon);
            }
            progress.advance(1);
        }
        acc
    });
    let mut partials = partials.into_iter();
    let mut total = partials.next().unwrap_or_default();
    for p in partials {
        total.merge(p);
    }
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

/// How long after its event a record may be delivered and still be checked
/// against every copy of it. CloudTrail delivers within minutes on average
/// (not guaranteed); a day is generous.
pub const DEDUP_DELAY: i64 = 24 * 3600;

/// Event ids are held per hour of their `eventTime`.
const DEDUP_BUCKET: i64 = 3600;

/// Records already counted, by `eventID`: the same event often arrives twice
/// (an S3 log file and a LookupEvents export of the same window, or two
/// trails delivering to one bucket). Copies of an event share its id and its
/// `eventTime`, so ids are held per hour of event time, and an hour is let go
/// once no file left to read can hold it (`ReadingOrder`): memory follows
/// the events of about a day, not all the events of the window. Sharded so
/// that parallel readers rarely wait on each other; about 16 bytes per id.
struct Dedup {
    /// Keyed per run (foldhash's random seed), so crafted ids cannot collide on purpose.
    hasher: foldhash::fast::RandomState,
    shards: Vec<Mutex<IdsByHour>>,
    /// Ids of events before this time (Unix seconds) have been let go.
    released_before: AtomicI64,
}

/// Hashed event ids by hour of event time.
type IdsByHour = BTreeMap<i64, HashSet<u64, BuildHasherDefault<Prehashed>>>;

/// What the duplicate check says of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    First,
    Duplicate,
    /// Not seen among the ids still held, but its hour had been let go: a
    /// copy read earlier would not have been noticed.
    Late,
}

/// The set's keys are already hashes: hashing them again is wasted work.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl Dedup {
    fn new() -> Self {
        Dedup {
            hasher: foldhash::fast::RandomState::default(),
            shards: (0..64).map(|_| Mutex::new(BTreeMap::new())).collect(),
            released_before: AtomicI64::new(i64::MIN),
        }
    }

    /// Checks the event id of a record of time `t` (Unix seconds) and
    /// remembers it.
    fn check(&self, event_id: &str, t: i64) -> Seen {
        let key = self.hasher.hash_one(event_id);
        let shard = &self.shards[(key % self.shards.len() as u64) as usize];
        // A poisoned shard only means another reader panicked; its set is still valid.
        let mut hours = shard.lock().unwrap_or_else(|e| e.into_inner());
        let first = hours
            .entry(t.div_euclid(DEDUP_BUCKET))
            .or_default()
            .insert(key);
        if !first {
            Seen::Duplicate
        } else if t < self.released_before.load(Ordering::Relaxed) {
            Seen::Late
        } else {
            Seen::First
        }
    }

    /// Lets go of the ids of events in hours that end at or before `horizon`.
    fn release_before(&self, horizon: i64) {
        let keep = horizon.div_euclid(DEDUP_BUCKET);
        let before = keep.saturating_mul(DEDUP_BUCKET);
        if self.released_before.fetch_max(before, Ordering::Relaxed) >= before {
            return;
        }
        for shard in &self.shards {
            let mut hours = shard.lock().unwrap_or_else(|e| e.into_inner());
            *hours = hours.split_off(&keep);
        }
    }
}

/// The order log files are read in, and how far it has got: files whose
/// name gives no delivery time (exports, LookupEvents pages) first, then
/// CloudTrail's deliveries by the time in their names. A file delivered at
/// `d` holds events from after `d - DEDUP_DELAY`; once every file before the
/// first unfinished one is read, the hours before that horizon can go.
struct ReadingOrder<'a> {
    files: Vec<(Option<i64>, &'a PathBuf)>,
    finished: Vec<AtomicBool>,
    /// The first file not yet finished.
    first_unfinished: Mutex<usize>,
}

impl<'a> ReadingOrder<'a> {
    fn new(paths: &'a [PathBuf]) -> Self {
        let mut files: Vec<(Option<i64>, &PathBuf)> =
            paths.iter().map(|p| (delivery_time(p), p)).collect();
        // Stable: files of one delivery time keep the order they were found in.
        files.sort_by_key(|(t, _)| t.unwrap_or(i64::MIN));
        let finished = files.iter().map(|_| AtomicBool::new(false)).collect();
        ReadingOrder {
            files,
            finished,
            first_unfinished: Mutex::new(0),
        }
    }

    /// Marks file `i` read; returns the horizon before which no file left
    /// holds events, when there is one.
    fn finished(&self, i: usize) -> Option<i64> {
        self.finished[i].store(true, Ordering::Release);
        let mut first = self
            .first_unfinished
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while *first < self.files.len() && self.finished[*first].load(Ordering::Acquire) {
            *first += 1;
        }
        let (delivered, _) = self.files.get(*first)?;
        delivered.map(|d| d - DEDUP_DELAY)
    }
}

/// When CloudTrail delivered a log file, from its name
/// (`<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz`).
pub fn delivery_time(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    name.split('_').find_map(|part| {
        let b = part.as_bytes();
        if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
            return None;
        }
        let p = |r: std::ops::Range<usize>| part.get(r);
        parse_time(&format!(
            "{}-{}-{}T{}:{}:00Z",
            p(0..4)?,
            p(4..6)?,
            p(6..8)?,
            p(9..11)?,
            p(11..13)?
        ))
    })
}

fn ingest_file(
    path: &Path,
    mapper: &EventMapper,
    opts: IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) {
    acc.stats.files += 1;
    let bytes = read_log_bytes(path);
    fold_file(path, bytes, mapper, opts, dedup, acc);
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
    fold_file(name, bytes, mapper, opts, &Dedup::new(), &mut acc);
    acc
}

fn fold_file(
    path: &Path,
    bytes: Result<Vec<u8>, String>,
    mapper: &EventMapper,
    opts: IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) {
    let bytes = match bytes {
        Ok(b) => b,
        Err(message) => {
            acc.stats.files_failed += 1;
            acc.problems.push(Problem {
                file: path.to_path_buf(),
                location: String::new(),
                message,
            });
            return;
        }
    };
    let mut problems = Vec::new();
    let mut rejected = Vec::new();
    let mut file = PerFile::new(mapper);
    let seen = for_each_record(
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
    acc.stats.records += seen as u64;
    // Every problem below file level is one skipped record.
    let (file_level, record_level): (Vec<_>, Vec<_>) =
        problems.into_iter().chain(rejected).partition(|p| {
            p.location.is_empty() || p.location.starts_with("line") || p.location.starts_with('$')
        });
    acc.stats.records_skipped += record_level.len() as u64;
    if !file_level.is_empty() {
        acc.stats.files_failed += 1;
    }
    acc.problems.extend(file_level);
    acc.problems.extend(record_level);
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
}

/// What the records of one file share while it is read.
struct PerFile<'a> {
    mapper: &'a EventMapper,
    /// Each distinct event of the file mapped once, with its service
    /// prefix: a file repeats a few dozen events many times, and mapping one
    /// (lowercasing, three hash lookups and two binary searches) was a
    /// tenth of the ingestion's CPU. Keyed by the event source and name as
    /// borrowed from the file's text.
    events: FastMap<(&'a str, &'a str), (MappedRef<'a>, &'a str)>,
    /// The resources of the current record, reused from record to record.
    resources: Vec<String>,
    /// Records delivered too late to be checked against every duplicate.
    late: u64,
}

impl<'a> PerFile<'a> {
    fn new(mapper: &'a EventMapper) -> Self {
        PerFile {
            mapper,
            events: FastMap::default(),
            resources: Vec::new(),
            late: 0,
        }
    }

    /// The mapping and service prefix of an event; `source` and `name` are
    /// only kept when they borrow from the file (an escaped string is an
    /// owned copy).
    fn map<'r>(
        &mut self,
        source: &'r Cow<'a, str>,
        name: &'r Cow<'a, str>,
    ) -> (MappedRef<'a>, &'r str) {
        let mapper = self.mapper;
        let (Cow::Borrowed(s), Cow::Borrowed(n)) = (source, name) else {
            return (mapper.map_ref(source, name), mapper.service_prefix(source));
        };
        *self
            .events
            .entry((s, n))
            .or_insert_with(|| (mapper.map_ref(s, n), mapper.service_prefix(s)))
    }
}

fn record<'a>(
    rec: &RawRecord<'a>,
    file: &mut PerFile<'a>,
    opts: IngestOptions,
    dedup: &Dedup,
    acc: &mut Activity,
) -> Result<(), String> {
    let (Some(source_cow), Some(name_cow)) = (&rec.event_source, &rec.event_name) else {
        return Err(if rec.event_source.is_none() {
            "missing `eventSource`"
        } else {
            "missing `eventName`"
        }
        .into());
    };
    let (source, name) = (source_cow.as_ref(), name_cow.as_ref());
    let time = rec.event_time.as_deref().ok_or("missing `eventTime`")?;
    let t =
        parse_time(time).ok_or_else(|| format!("missing valid `eventTime` (found `{time}`)"))?;
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
    note_assume_role(rec, source, name, acc);
    let stats = &mut acc.stats;
    stats.first_event = min_opt(stats.first_event, Some(t));
    stats.last_event = max_opt(stats.last_event, Some(t));

    let Some(actor) = rec.user_identity.as_ref().and_then(attribute) else {
        stats.service_records += 1;
        return Ok(());
    };
    let (mapped, prefix) = file.map(source_cow, name_cow);
    fold_mapped(
        acc,
        mapped,
        &actor,
        Call {
            source,
            name,
            error_code: rec.error_code.as_deref(),
        },
        Occurrence {
            count: 1,
            first: t,
            last: t,
        },
        |out| super::resources::extract(rec, prefix, out),
        &mut file.resources,
    );
    Ok(())
}

/// How many times a call was seen, and when first and last (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

/// The event of a record or of an aggregated row: what was called, and how it ended.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub source: &'a str,
    pub name: &'a str,
    pub error_code: Option<&'a str>,
}

/// Adds `occ` calls by `actor` to the activity: one record from a log file,
/// or one pre-aggregated row (Athena). `extract` fills in the resources, and
/// is called only when the call maps to actions.
pub fn fold(
    acc: &mut Activity,
    mapper: &EventMapper,
    actor: &super::attribution::Actor,
    call: Call<'_>,
    occ: Occurrence,
    extract: impl FnOnce(&mut Vec<String>),
    resources: &mut Vec<String>,
) {
    let mapped = mapper.map_ref(call.source, call.name);
    fold_mapped(acc, mapped, actor, call, occ, extract, resources);
}

/// [`fold`] of a call already mapped.
fn fold_mapped(
    acc: &mut Activity,
    mapped: MappedRef<'_>,
    actor: &super::attribution::Actor,
    call: Call<'_>,
    occ: Occurrence,
    extract: impl FnOnce(&mut Vec<String>),
    resources: &mut Vec<String>,
) {
    let Call {
        source,
        name,
        error_code,
    } = call;
    let stats = &mut acc.stats;
    if !acc.actors.contains_key(actor.arn.as_ref()) {
        acc.actors
            .insert(actor.arn.to_string(), ActorActivity::empty(actor.kind));
    }
    let Some(a) = acc.actors.get_mut(actor.arn.as_ref()) else {
        return;
    };
    a.records += occ.count;
    a.first = a.first.min(occ.first);
    a.last = a.last.max(occ.last);
    if let Some(s) = &actor.source_identity {
        bump(&mut a.source_identities, s, occ.count);
    }
    if let Some(s) = &actor.session {
        bump(&mut a.sessions, s, occ.count);
        if actor.source_identity.is_none() {
            a.sessions_without_source_identity += occ.count;
        }
    }
    let one: [ActionId; 1];
    let listed: Option<&[ActionId]> = match mapped {
        MappedRef::Actions(ids) => Some(ids),
        MappedRef::Action(id) => {
            one = [id];
            Some(&one)
        }
        _ => None,
    };
    if let Some(actions) = listed {
        stats.mapped += occ.count;
        let outcome = match error_code {
            None | Some("") => Outcome::Success,
            Some(c) if is_access_denied(c) => Outcome::Denied,
            Some(_) => Outcome::Error,
        };
        resources.clear();
        extract(resources);
        if outcome == Outcome::Success {
            if let Some(si) = &actor.source_identity {
                let e = a
                    .resources_by_source_identity
                    .entry(si.to_string())
                    .or_default();
                for r in resources.iter() {
                    e.insert(r);
                }
            }
        }
        for &id in actions {
            a.actions.stats_mut((id, outcome)).add(
                occ,
                resources,
                actor.invoked_by.as_deref(),
                error_code,
            );
        }
        return;
    }
    match mapped {
        // Recorded above.
        MappedRef::Actions(_) | MappedRef::Action(_) => {}
        MappedRef::NoPermission(catalog_action) => {
            stats.no_permission += occ.count;
            // No permission is needed, but the call happened: a catalog action
            // of that name (sts:GetCallerIdentity) is used, never "unused".
            if let (Some(id), None) = (catalog_action, error_code) {
                a.actions.stats_mut((id, Outcome::Success)).add(
                    occ,
                    &[],
                    actor.invoked_by.as_deref(),
                    None,
                );
            }
        }
        MappedRef::NotIam => {
            stats.not_iam += occ.count;
            *a.non_iam.entry(format!("{source}:{name}")).or_default() += occ.count;
        }
        MappedRef::Unmapped => {
            stats.unmapped += occ.count;
            let key = format!("{source}:{name}");
            *a.unmapped.entry(key.clone()).or_default() += occ.count;
            *stats.unmapped_events.entry(key).or_default() += occ.count;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn delivery_times_come_from_cloudtrail_file_names() {
        let t = |n: &str| delivery_time(Path::new(n));
        assert_eq!(
            t("a/b/123456789012_CloudTrail_us-east-1_20261023T1205Z_AbCd.json.gz"),
            parse_time("2026-10-23T12:05:00Z")
        );
        assert_eq!(t("lookup-events-0001.json"), None);
        assert_eq!(t("x_20261323T1205Z_y.json.gz"), None, "month 13");
        assert_eq!(t("x_20261023X1205Z_y.json.gz"), None);
    }

    #[test]
    fn event_ids_are_let_go_by_hour_and_late_records_are_told_apart() {
        let d = Dedup::new();
        let t0 = parse_time("2026-10-01T10:30:00Z").unwrap();
        assert_eq!(d.check("a", t0), Seen::First);
        assert_eq!(d.check("a", t0), Seen::Duplicate);
        assert_eq!(d.check("b", t0 + 3600), Seen::First);
        // The hour of `a` ends at 11:00: a horizon of 11:59 lets it go, not `b`'s.
        d.release_before(t0 + 5340);
        assert_eq!(d.check("b", t0 + 3600), Seen::Duplicate);
        assert_eq!(d.check("a", t0), Seen::Late);
        assert_eq!(d.check("c", t0 + 1000), Seen::Late);
        assert_eq!(d.check("e", t0 + 5400), Seen::First);
        // An earlier horizon releases nothing more.
        d.release_before(t0);
        assert_eq!(d.check("e", t0 + 5400), Seen::Duplicate);
    }

    #[test]
    fn the_horizon_waits_for_files_without_a_delivery_time_and_for_earlier_files() {
        let paths: Vec<PathBuf> = [
            "1_CloudTrail_r_20261002T0000Z_b.json.gz",
            "1_CloudTrail_r_20261001T0000Z_a.json.gz",
            "export.json",
            "1_CloudTrail_r_20261003T0000Z_c.json.gz",
        ]
        .into_iter()
        .map(PathBuf::from)
        .collect();
        let o = ReadingOrder::new(&paths);
        let names: Vec<&str> = o.files.iter().map(|(_, p)| p.to_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "export.json",
                "1_CloudTrail_r_20261001T0000Z_a.json.gz",
                "1_CloudTrail_r_20261002T0000Z_b.json.gz",
                "1_CloudTrail_r_20261003T0000Z_c.json.gz"
            ]
        );
        let day = |d: &str| parse_time(&format!("2026-10-{d}T00:00:00Z")).unwrap();
        // The export may hold events of any time: nothing goes until it is read.
        assert_eq!(o.finished(1), None);
        assert_eq!(o.finished(2), None);
        assert_eq!(o.finished(0), Some(day("03") - DEDUP_DELAY));
        assert_eq!(o.finished(3), None, "every file read");
    }

    #[test]
    fn action_maps_keep_their_keys_sorted_and_one_entry_per_key() {
        let mut m = ActionMap::default();
        let k = |i: u32, o: Outcome| (ActionId(i), o);
        m.stats_mut(k(7, Outcome::Success)).count += 1;
        m.stats_mut(k(3, Outcome::Denied)).count += 2;
        m.stats_mut(k(7, Outcome::Success)).count += 4;
        m.stats_mut(k(3, Outcome::Success)).count += 8;
        let seen: Vec<_> = m.iter().map(|(k, s)| (*k, s.count)).collect();
        assert_eq!(
            seen,
            [
                (k(3, Outcome::Success), 8),
                (k(3, Outcome::Denied), 2),
                (k(7, Outcome::Success), 5)
            ]
        );
        m.insert(k(3, Outcome::Denied), ActionStats::default());
        assert_eq!(m.get(&k(3, Outcome::Denied)).map(|s| s.count), Some(0));
        assert_eq!(m.get(&k(9, Outcome::Denied)), None);
        assert_eq!(m.len(), 3);
        assert_eq!(m.into_iter().count(), 3);
    }

    #[test]
    fn counts_add_up_by_name_and_serialize_as_a_map() {
        let mut a = Counts::default();
        a.add("ThrottlingException", 2);
        a.add("AccessDenied", 1);
        a.add("ThrottlingException", 3);
        let b: Counts = [("Zeta", 4), ("AccessDenied", 5)].into_iter().collect();
        let mut ab = a.clone();
        ab.merge(b.clone());
        let mut ba = b;
        ba.merge(a);
        assert_eq!(ab, ba);
        assert_eq!(
            ab.iter().collect::<Vec<_>>(),
            [("AccessDenied", 6), ("ThrottlingException", 5), ("Zeta", 4)]
        );
        assert_eq!(ab.get("Zeta"), Some(4));
        assert_eq!(ab.get("Nope"), None);
        let json = serde_json::to_string(&ab).unwrap();
        assert_eq!(
            json,
            r#"{"AccessDenied":6,"ThrottlingException":5,"Zeta":4}"#
        );
        assert_eq!(serde_json::from_str::<Counts>(&json).unwrap(), ab);
        assert_eq!(serde_json::to_string(&Counts::default()).unwrap(), "{}");
    }

    #[test]
    fn resource_samples_do_not_depend_on_the_order_of_reading() {
        let names: Vec<String> = (0..25).map(|i| format!("arn:aws:s3:::b/k{i:02}")).collect();
        let occ = Occurrence {
            count: 1,
            first: 0,
            last: 0,
        };
        let one_by_one = |order: &[String]| {
            let mut s = ActionStats::default();
            for r in order {
                s.add(occ, std::slice::from_ref(r), None, None);
            }
            s
        };
        let forward = one_by_one(&names);
        let mut reversed: Vec<String> = names.clone();
        reversed.reverse();
        let backward = one_by_one(&reversed);
        // Two partial aggregates merged, as two threads would leave them.
        let mut left = one_by_one(&reversed[..13]);
        left.merge(one_by_one(&reversed[13..]));
        for s in [&forward, &backward, &left] {
            assert!(s
                .resources
                .iter()
                .eq(names[..RESOURCE_SAMPLES].iter().map(String::as_str)));
            assert!(s.resources_truncated);
            assert_eq!(s.count, 25);
        }
        let few = one_by_one(&names[..RESOURCE_SAMPLES]);
        assert!(!few.resources_truncated);
    }
}

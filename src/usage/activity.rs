//! What the logs say each identity did: the types of the aggregated
//! activity, whose size grows with identities × actions, never with events.
//! `read` fills them from log files, through `fold`; `store` keeps them.
//!
//! Types and their merging only: reading, the duplicate check and the fold
//! of one call live beside this module.

use super::attribution::ActorKind;
use super::name_map::NameMap;
use super::summary::ResourceSummary;
use crate::catalog::{AccessLevel, ActionId};
use crate::ingest::cloudtrail::Problem;
use crate::util::FastMap;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many distinct resources are kept as evidence per principal and action.
pub const RESOURCE_SAMPLES: usize = 20;

/// How a call ended, as `rules/error-codes.yaml` reads its error code
/// (`error_codes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    Success,
    /// Passed authorization, then failed (a code documented as, or only
    /// decidable, after the service acted): the permission was used.
    Failed,
    /// Most likely passed authorization, then failed (the service normally
    /// authorizes first; not documented per code).
    FailedLikely,
    /// A dry run (`DryRunOperation`): authorized, not performed.
    DryRun,
    /// Refused by an authorization decision (AccessDenied and its relatives).
    Denied,
    /// Anything else: an unknown code, authentication, throttling,
    /// validation, a server fault. An attempt, never use.
    Error,
}

impl Outcome {
    pub const ALL: [Outcome; 6] = [
        Outcome::Success,
        Outcome::Failed,
        Outcome::FailedLikely,
        Outcome::DryRun,
        Outcome::Denied,
        Outcome::Error,
    ];

    /// The name the activity store and the reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::FailedLikely => "failed-likely",
            Outcome::DryRun => "dry-run",
            Outcome::Denied => "denied",
            Outcome::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
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
    /// More distinct resources were seen than are kept; exactly when
    /// `summary` is there.
    pub resources_truncated: bool,
    /// Every resource, summarized ([`ResourceSummary`]), once there are
    /// more than the sample keeps: built from the sample when it first
    /// overflows, so that it covers every name seen. Boxed: most actions
    /// never need one, and pay 8 bytes.
    pub summary: Option<Box<ResourceSummary>>,
    /// Services that made the call on the principal's behalf, with counts.
    pub invoked_by: Counts,
    pub error_codes: Counts,
    /// Refusals only: the policy types their messages named
    /// ([`super::error_codes::PolicyType::as_str`]), with counts.
    pub refused_by: Counts,
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

    pub(super) fn add(
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
            self.add_resource(r);
        }
        if let Some(v) = via {
            self.invoked_by.add(v, occ.count);
        }
        if let Some(e) = error {
            self.error_codes.add(e, occ.count);
        }
    }

    /// Adds one resource to the sample and, once the sample is full, to the
    /// summary (made from the sample the first time: the sample held every
    /// name until then).
    pub fn add_resource(&mut self, r: &str) {
        match &mut self.summary {
            Some(s) => s.insert(r),
            None if self.resources.len() == RESOURCE_SAMPLES && !self.resources.contains(r) => {
                let mut s: ResourceSummary = self.resources.iter().collect();
                s.insert(r);
                self.summary = Some(Box::new(s));
            }
            None => {}
        }
        self.resources_truncated |= self.resources.insert(r);
    }

    /// Merges the resources of `o`: samples, and summaries so that the
    /// result is the summary of the union, whichever side had one.
    fn merge_resources(
        &mut self,
        o_resources: ResourceSample,
        o_summary: Option<Box<ResourceSummary>>,
    ) {
        let summary = match (self.summary.take(), o_summary) {
            (Some(mut a), Some(b)) => {
                a.merge(*b);
                Some(a)
            }
            (Some(mut a), None) => {
                o_resources.iter().for_each(|r| a.insert(r));
                Some(a)
            }
            (None, Some(mut b)) => {
                self.resources.iter().for_each(|r| b.insert(r));
                Some(b)
            }
            // Both samples hold every name seen: a summary once their
            // union overflows. Counted without building it: readers merge
            // every file's evidence into the total.
            (None, None) => (self.resources.union_len(&o_resources) > RESOURCE_SAMPLES)
                .then(|| Box::new(self.resources.iter().chain(o_resources.iter()).collect())),
        };
        self.summary = summary;
        self.resources_truncated |= self.resources.merge(o_resources);
    }

    /// Adds the evidence of the same action from elsewhere (another
    /// reading thread, or another outcome of it).
    pub fn merge(&mut self, o: ActionStats) {
        if self.count == 0 {
            *self = o;
            return;
        }
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.count += o.count;
        self.resources_truncated |= o.resources_truncated;
        self.merge_resources(o.resources, o.summary);
        self.invoked_by.merge(o.invoked_by);
        self.error_codes.merge(o.error_codes);
        self.refused_by.merge(o.refused_by);
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
    /// when a name was left out. One pass over both sorted lists: readers
    /// merge every file's evidence into the total.
    pub fn merge(&mut self, other: ResourceSample) -> bool {
        if other.0.is_empty() {
            return false;
        }
        if self.0.is_empty() {
            *self = other;
            return false;
        }
        let mine = std::mem::take(&mut self.0).into_vec();
        let theirs = other.0.into_vec();
        let mut out = Vec::with_capacity((mine.len() + theirs.len()).min(RESOURCE_SAMPLES));
        let mut a = mine.into_iter().peekable();
        let mut b = theirs.into_iter().peekable();
        let mut left_out = false;
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => match x.cmp(y) {
                    std::cmp::Ordering::Less => a.next(),
                    std::cmp::Ordering::Greater => b.next(),
                    std::cmp::Ordering::Equal => {
                        b.next();
                        a.next()
                    }
                },
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            if out.len() == RESOURCE_SAMPLES {
                // A distinct name past the sample's size (the rest are
                // larger still).
                left_out = true;
                break;
            }
            out.extend(next);
        }
        self.0 = out.into_boxed_slice();
        left_out
    }

    /// How many distinct names the two samples hold together.
    fn union_len(&self, other: &ResourceSample) -> usize {
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < self.0.len() && j < other.0.len() {
            match self.0[i].cmp(&other.0[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    i += 1;
                    j += 1;
                }
            }
            n += 1;
        }
        n + (self.0.len() - i) + (other.0.len() - j)
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
/// node of eleven slots (about 400 bytes) for the first. Most actions have
/// none (a success has no error code): the block is behind a second box, so
/// that an empty one takes 8 bytes, not 16, three times in each action's
/// evidence.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Counts(Option<Box<Entries>>);

/// Never empty: an empty [`Counts`] is `None`.
type Entries = Box<[(Box<str>, u64)]>;

impl Counts {
    fn entries(&self) -> &[(Box<str>, u64)] {
        self.0.as_deref().map_or(&[], |e| &e[..])
    }

    /// Adds `n` to `key`'s count, allocating the key only the first time.
    pub fn add(&mut self, key: &str, n: u64) {
        let e = self.0.get_or_insert_with(Box::default);
        match e.binary_search_by(|(k, _)| (**k).cmp(key)) {
            Ok(i) => e[i].1 += n,
            Err(i) => splice(e, i, (key.into(), n), false),
        }
    }

    /// Adds the other counts, moving their keys.
    pub fn merge(&mut self, other: Counts) {
        let Some(theirs) = other.0 else {
            return;
        };
        let Some(e) = &mut self.0 else {
            self.0 = Some(theirs);
            return;
        };
        for (k, n) in theirs.into_vec() {
            match e.binary_search_by(|(x, _)| x.cmp(&k)) {
                Ok(i) => e[i].1 += n,
                Err(i) => splice(e, i, (k, n), false),
            }
        }
    }

    /// The names and counts, by name.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, u64)> + Clone {
        self.entries().iter().map(|(k, n)| (&**k, *n))
    }

    /// The names, sorted.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.entries().iter().map(|(k, _)| &**k)
    }

    pub fn get(&self, key: &str) -> Option<u64> {
        let e = self.entries();
        let i = e.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(e[i].1)
    }

    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl std::fmt::Debug for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
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

    /// The evidence, by action id, then outcome.
    pub fn values_mut(&mut self) -> impl ExactSizeIterator<Item = &mut ActionStats> {
        self.stats.iter_mut()
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

    /// Drops the vectors' spare capacity, once nothing more is added.
    pub fn shrink_to_fit(&mut self) {
        self.keys.shrink_to_fit();
        self.stats.shrink_to_fit();
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

/// The changes (successful calls of actions of access level Write,
/// Permissions management or Tagging) an identity made in one service: what
/// `change-outside-pipeline` reports, kept per channel so that a workload's
/// own writes and a person's console edits stay apart.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeStats {
    pub count: u64,
    pub first: i64,
    pub last: i64,
    /// Action names within the service (`RunInstances`) with counts.
    pub actions: Counts,
    /// Up to `RESOURCE_SAMPLES` session names (the smallest).
    pub sessions: ResourceSample,
    pub resources: ResourceSample,
    #[serde(default)]
    pub resources_truncated: bool,
}

impl ChangeStats {
    pub(super) fn add(
        &mut self,
        occ: Occurrence,
        action: &str,
        session: Option<&str>,
        resources: &[String],
    ) {
        if self.count == 0 || occ.first < self.first {
            self.first = occ.first;
        }
        if self.count == 0 || occ.last > self.last {
            self.last = occ.last;
        }
        self.count += occ.count;
        self.actions.add(action, occ.count);
        if let Some(s) = session {
            self.sessions.insert(s);
        }
        for r in resources {
            self.resources_truncated |= self.resources.insert(r);
        }
    }

    fn merge(&mut self, o: ChangeStats) {
        if self.count == 0 {
            *self = o;
            return;
        }
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
        self.count += o.count;
        self.actions.merge(o.actions);
        self.sessions.merge(o.sessions);
        self.resources_truncated |= o.resources_truncated;
        self.resources_truncated |= self.resources.merge(o.resources);
    }
}

/// One identity's changes in one service, action family and channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub service: Box<str>,
    pub family: AccessLevel,
    pub channel: Box<str>,
    pub stats: ChangeStats,
}

impl Change {
    fn key(&self) -> (&str, AccessLevel, &str) {
        (&self.service, self.family, &self.channel)
    }
}

/// An identity's changes by service prefix, then action family (the access
/// level: [`AccessLevel::change_family`]), then channel, in that order: the
/// order of the three nested `BTreeMap`s it replaced. An identity has one or
/// two entries per service, where each level of the maps allocated a node of
/// eleven slots (about 2 KB per entry in all); a sorted boxed slice holds
/// them in one block, sized exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes(Box<[Change]>);

impl Changes {
    fn find(&self, key: (&str, AccessLevel, &str)) -> Result<usize, usize> {
        self.0.binary_search_by(|c| c.key().cmp(&key))
    }

    /// The changes of `service`, `family` and `channel`, added empty the
    /// first time: looked up by borrowed names on every write record, so a
    /// key is allocated once.
    pub fn stats_mut(
        &mut self,
        service: &str,
        family: AccessLevel,
        channel: &str,
    ) -> &mut ChangeStats {
        let i = match self.find((service, family, channel)) {
            Ok(i) => i,
            Err(i) => {
                let c = Change {
                    service: service.into(),
                    family,
                    channel: channel.into(),
                    stats: ChangeStats::default(),
                };
                splice(&mut self.0, i, c, false);
                i
            }
        };
        &mut self.0[i].stats
    }

    /// Adds the other identity's changes (the same identity read elsewhere):
    /// one pass over both sorted lists, so the result is the same whatever
    /// the order of the merges.
    pub fn merge(&mut self, other: Changes) {
        if other.0.is_empty() {
            return;
        }
        if self.0.is_empty() {
            *self = other;
            return;
        }
        let mine = std::mem::take(&mut self.0).into_vec();
        let theirs = other.0.into_vec();
        let mut out = Vec::with_capacity(mine.len() + theirs.len());
        let mut a = mine.into_iter().peekable();
        let mut b = theirs.into_iter().peekable();
        loop {
            let order = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.key().cmp(&y.key()),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => break,
            };
            match order {
                std::cmp::Ordering::Less => out.extend(a.next()),
                std::cmp::Ordering::Greater => out.extend(b.next()),
                std::cmp::Ordering::Equal => {
                    if let (Some(mut x), Some(y)) = (a.next(), b.next()) {
                        x.stats.merge(y.stats);
                        out.push(x);
                    }
                }
            }
        }
        // Exactly sized: the vector's spare slots (keys in both) dropped.
        self.0 = out.into_boxed_slice();
    }

    /// By service, then family, then channel.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Change> + Clone {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Everything one identity did in the window.
#[derive(Clone, Debug)]
pub struct ActorActivity {
    pub kind: ActorKind,
    /// Empty in a principal's audit: the evidence moved into its used,
    /// denied and failed lists.
    pub actions: ActionMap,
    pub source_identities: NameMap<u64>,
    pub sessions: NameMap<u64>,
    /// Per end user (`sourceIdentity`), up to `RESOURCE_SAMPLES` resources touched.
    pub resources_by_source_identity: NameMap<ResourceSample>,
    /// Assumed-role records whose session carried no `sourceIdentity`.
    pub sessions_without_source_identity: u64,
    /// The people behind the calls (`userIdentity.onBehalfOf`: Identity
    /// Center users and identity-enhanced role sessions), as
    /// `IDENTITY_STORE/USER_ID`, with call counts.
    pub identity_center_users: NameMap<u64>,
    /// Federation tokens (`GetFederationToken`) this IAM user issued, by the
    /// federated user's name, with the calls made with them: they act with
    /// the user's permissions, so their calls count as the user's.
    pub federated_users: NameMap<u64>,
    /// Roles this identity passed to a service (`iam:PassRole` inferred from
    /// the calls' request parameters), by role ARN or name.
    pub passed_roles: BTreeMap<String, PassedRole>,
    /// Successful calls that may have passed a role the record does not
    /// name (a launch template's instance profile, a redacted parameter):
    /// the roles above may not be all the roles it passes.
    pub passes_unknown: u64,
    /// Events that are not IAM actions (console sign-in, SSO portal), by `source:name`.
    pub non_iam: NameMap<u64>,
    /// Events we could not map to a catalog action, by `source:name`.
    pub unmapped: NameMap<u64>,
    /// Calls by channel (`rules/channels.yaml`: console, cli, sdk, iac,
    /// service, mcp, other).
    pub channels: NameMap<u64>,
    /// Changes by service prefix, then action family, then channel.
    pub changes: Changes,
    /// Assumed-role calls whose session named no person: neither a
    /// `sourceIdentity` nor an `onBehalfOf`.
    pub calls_without_user_identity: u64,
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
            source_identities: NameMap::new(),
            sessions: NameMap::new(),
            resources_by_source_identity: NameMap::new(),
            sessions_without_source_identity: 0,
            identity_center_users: NameMap::new(),
            federated_users: NameMap::new(),
            passed_roles: BTreeMap::new(),
            passes_unknown: 0,
            non_iam: NameMap::new(),
            unmapped: NameMap::new(),
            channels: NameMap::new(),
            changes: Changes::default(),
            calls_without_user_identity: 0,
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
            (&mut self.identity_center_users, o.identity_center_users),
            (&mut self.federated_users, o.federated_users),
            (&mut self.non_iam, o.non_iam),
            (&mut self.unmapped, o.unmapped),
            (&mut self.channels, o.channels),
        ] {
            map.add_all(other);
        }
        self.resources_by_source_identity
            .merge(o.resources_by_source_identity, |a, b| {
                a.merge(b);
            });
        for (k, v) in o.passed_roles {
            self.passed_roles.entry(k).or_default().merge(v);
        }
        self.sessions_without_source_identity += o.sessions_without_source_identity;
        self.passes_unknown += o.passes_unknown;
        self.changes.merge(o.changes);
        self.calls_without_user_identity += o.calls_without_user_identity;
        self.records += o.records;
        self.first = self.first.min(o.first);
        self.last = self.last.max(o.last);
    }
}

/// One role an identity passed to services, from the calls that passed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PassedRole {
    pub count: u64,
    /// The services it was passed to (`iam:PassedToService`), where known.
    pub services: BTreeSet<String>,
    /// The calls that passed it (`lambda:CreateFunction`, ...).
    pub calls: BTreeSet<String>,
}

impl PassedRole {
    pub fn merge(&mut self, o: PassedRole) {
        self.count += o.count;
        self.services.extend(o.services);
        self.calls.extend(o.calls);
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
    /// CloudTrail Insights events: rates of unusual activity, never a call.
    #[serde(default)]
    pub insights: u64,
    /// Network activity events (`AwsVpceEvent`) of calls the endpoint let
    /// through: a second record of a call, never a second use. (A call the
    /// endpoint refused has no other record, and counts as a refused call.)
    #[serde(default)]
    pub network_activity: u64,
    /// Records whose recipient and caller accounts are both outside the
    /// audited account(s).
    #[serde(default)]
    pub other_account: u64,
    /// Records of the window that belong to an audited account (or, when
    /// the audited accounts are not known, every record of the window that
    /// was read): zero means the logs say nothing of the account.
    #[serde(default)]
    pub account_records: u64,
    /// `account_records` by the account whose trail delivered them (empty
    /// when the activity did not come from log files, e.g. from Athena):
    /// whether each account of an organization has evidence of its own.
    #[serde(default)]
    pub account_records_by: BTreeMap<String, u64>,
    /// Files of `aws cloudtrail lookup-events` output read, and their events.
    #[serde(default)]
    pub lookup_files: u64,
    /// Calls of mapped actions whose error code no rule of
    /// `error-codes.yaml` knows, by code: counted as attempts, never use.
    #[serde(default)]
    pub unknown_error_codes: BTreeMap<String, u64>,
    /// First and last event time seen (Unix seconds), if any.
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
}

impl IngestStats {
    /// The buckets every record read lands in, exactly one each, with
    /// their counts: they add up to `records`.
    pub fn buckets(&self) -> [(&'static str, u64); 11] {
        [
            ("mapped", self.mapped),
            ("no_permission", self.no_permission),
            ("not_iam", self.not_iam),
            ("unmapped", self.unmapped),
            ("aws_service", self.service_records),
            ("network_activity", self.network_activity),
            ("insights", self.insights),
            ("duplicate", self.duplicates),
            ("outside_window", self.outside_window),
            ("other_account", self.other_account),
            ("skipped", self.records_skipped),
        ]
    }

    /// Counts a record of the window that belongs to an audited account,
    /// under `account` when known.
    pub(super) fn count_account_record(&mut self, account: Option<&str>) {
        self.account_records += 1;
        // Looked up before inserting: no allocation per record.
        match account.map(|a| (a, self.account_records_by.get_mut(a))) {
            Some((_, Some(n))) => *n += 1,
            Some((a, None)) => {
                self.account_records_by.insert(a.to_string(), 1);
            }
            None => {}
        }
    }

    /// Whether every record read is in exactly one bucket.
    pub fn adds_up(&self) -> bool {
        self.buckets().iter().map(|(_, n)| n).sum::<u64>() == self.records
    }

    pub(super) fn merge(&mut self, o: IngestStats) {
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
        self.insights += o.insights;
        self.network_activity += o.network_activity;
        self.other_account += o.other_account;
        self.account_records += o.account_records;
        for (k, v) in o.account_records_by {
            *self.account_records_by.entry(k).or_default() += v;
        }
        self.lookup_files += o.lookup_files;
        for (k, v) in o.unmapped_events {
            *self.unmapped_events.entry(k).or_default() += v;
        }
        for (k, v) in o.unknown_error_codes {
            *self.unknown_error_codes.entry(k).or_default() += v;
        }
        self.first_event = min_opt(self.first_event, o.first_event);
        self.last_event = max_opt(self.last_event, o.last_event);
    }
}

pub(super) fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

pub(super) fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
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
    /// Role sessions by access key: what issued each, what each did. Read
    /// from log files only (the activity store does not keep them).
    pub chains: super::chains::SessionChains,
}

impl Activity {
    /// Replaces the instance profiles that `iam:PassRole` evidence names
    /// (passed to EC2) with their roles, by profile ARN (`roles_of`); a
    /// profile the snapshot does not know stays, and its evidence is
    /// marked incomplete, so that no recommendation narrows PassRole to
    /// the roles it does know.
    pub fn resolve_instance_profiles(
        &mut self,
        pass_role: ActionId,
        roles_of: &HashMap<String, String>,
    ) {
        let is_profile = |r: &str| r.contains(":instance-profile/");
        let resolve = |r: &str| -> Option<String> {
            roles_of.get(r).cloned().or_else(|| {
                // A profile named without its path: match by account and name.
                let (head, name) = r.split_once(":instance-profile/")?;
                roles_of.iter().find_map(|(k, v)| {
                    let (h, n) = k.split_once(":instance-profile/")?;
                    (h == head && n.rsplit('/').next() == Some(name)).then(|| v.clone())
                })
            })
        };
        for a in self.actors.values_mut() {
            if !a.passed_roles.keys().any(|r| is_profile(r)) {
                continue;
            }
            let mut unresolved = false;
            let passed = std::mem::take(&mut a.passed_roles);
            for (r, p) in passed {
                let key = if is_profile(&r) {
                    resolve(&r).unwrap_or_else(|| {
                        unresolved = true;
                        r
                    })
                } else {
                    r
                };
                a.passed_roles.entry(key).or_default().merge(p);
            }
            let evidence = a.actions.get(&(pass_role, Outcome::Success)).cloned();
            if let Some(mut s) = evidence {
                let names: Vec<String> = s
                    .resources
                    .iter()
                    .map(|r| {
                        if is_profile(r) {
                            resolve(r).unwrap_or_else(|| r.to_string())
                        } else {
                            r.to_string()
                        }
                    })
                    .collect();
                s.resources = ResourceSample::default();
                for n in &names {
                    s.resources_truncated |= s.resources.insert(n);
                }
                s.resources_truncated |= unresolved;
                // The summary still names instance profiles, not their
                // roles: nothing may be narrowed to it.
                if s.resources_truncated {
                    let mut sum = s
                        .summary
                        .take()
                        .unwrap_or_else(|| Box::new(names.iter().collect()));
                    sum.mark_incomplete();
                    s.summary = Some(sum);
                }
                a.actions.insert((pass_role, Outcome::Success), s);
            }
        }
    }
}

/// What the AssumeRole calls for one role asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionsGranted {
    pub count: u64,
    /// Session tag key to the values seen.
    pub tags: BTreeMap<String, BTreeSet<String>>,
    /// Who called AssumeRole (principal ARN or service), with counts.
    pub callers: NameMap<u64>,
    /// Agent and workload identities (`onBehalfOf.subject` of type
    /// `workload`) whose sessions these calls started, with counts: AgentCore
    /// records the agent's identity there.
    pub workloads: BTreeMap<String, u64>,
}

impl Activity {
    /// The counts that the activity's memory grows with, for `-vv`: a
    /// large run's memory can be read off them without a heap profiler.
    pub fn size_summary(&self) -> String {
        let mut stats = 0usize;
        let mut resources = 0usize;
        let mut sessions = 0usize;
        for a in self.actors.values() {
            stats += a.actions.len();
            resources += a
                .actions
                .iter()
                .map(|(_, s)| s.resources.len())
                .sum::<usize>();
            sessions += a.sessions.len();
        }
        let session_actions: usize = self.chains.used.values().map(|u| u.actions.len()).sum();
        format!(
            "{} identities, {stats} action entries, {resources} resource samples, {sessions} session names, \
             {} roles with sessions granted, {} keys issued, {} session keys used ({session_actions} session actions)",
            self.actors.len(),
            self.sessions_granted.len(),
            self.chains.issued.len(),
            self.chains.used.len(),
        )
    }

    /// Drops the spare capacity that reading and merging left in the
    /// identities' maps and vectors: called once the activity is complete,
    /// before the evaluation, whose end is the audit's memory peak.
    pub fn shrink_to_fit(&mut self) {
        self.actors.shrink_to_fit();
        for a in self.actors.values_mut() {
            a.actions.shrink_to_fit();
        }
        self.sessions_granted.shrink_to_fit();
        self.problems.shrink_to_fit();
    }

    /// Adds another activity: another reading thread's or file's, an
    /// Athena row, or another account's store in an organization audit.
    pub fn merge(&mut self, o: Activity) {
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
            // Bounded as reading bounds them (`fold::note_assume_role`):
            // every file's are merged into the total.
            for (tk, tv) in v.tags {
                let vals = e.tags.entry(tk).or_default();
                for t in tv {
                    if vals.len() < RESOURCE_SAMPLES {
                        vals.insert(t);
                    }
                }
            }
            e.callers.add_all(v.callers);
            for (w, n) in v.workloads {
                if e.workloads.len() < RESOURCE_SAMPLES || e.workloads.contains_key(&w) {
                    *e.workloads.entry(w).or_default() += n;
                }
            }
        }
        self.stats.merge(o.stats);
        self.problems.extend(o.problems);
        self.chains.merge(o.chains);
    }
}

/// How many times a call was seen, and when first and last (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub count: u64,
    pub first: i64,
    pub last: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What an organization's activity holds per identity and action (1.7
    /// million actions at 50 accounts of 2,000 roles): a regression here is
    /// tens of megabytes.
    #[test]
    fn evidence_stays_compact() {
        use std::mem::size_of;
        assert_eq!(size_of::<Counts>(), 8);
        assert_eq!(size_of::<ResourceSample>(), 16);
        assert!(
            size_of::<ActionStats>() <= 80,
            "{}",
            size_of::<ActionStats>()
        );
        assert_eq!(size_of::<NameMap<u64>>(), 16);
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

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The sample and the summary that takes over when it overflows:
        /// the resources of one action dealt to random "files" (calls of
        /// one to three resources), each file's evidence merged in a random
        /// order, give the same evidence as one pass; the summary is there
        /// exactly when the sample overflowed, and covers every resource.
        #[test]
        fn evidence_merges_exactly_across_files_and_orders(
            names in proptest::collection::vec(
                ("[abc]", "[0-9]{1,3}", "[xy]{0,2}")
                    .prop_map(|(b, n, k)| format!("arn:aws:s3:::bucket-{b}/builds/{n}/{k}")),
                1..120,
            ),
            parts in 1usize..6,
            seed in any::<u64>(),
        ) {
            let occ = Occurrence { count: 1, first: 0, last: 0 };
            let mut next = crate::usage::merge_test::xorshift(seed);
            let mut one = ActionStats::default();
            for c in names.chunks(3) {
                one.add(occ, c, None, None);
            }
            let mut files = vec![ActionStats::default(); parts];
            for c in names.chunks(3) {
                let i = (next() % parts as u64) as usize;
                files[i].add(occ, c, None, None);
            }
            let merged =
                crate::usage::merge_test::merge_randomly(files, &mut next, |a, b| a.merge(b));
            // Empty files merged first take the other side whole; compare
            // what does not depend on that.
            prop_assert_eq!(&merged.resources, &one.resources);
            prop_assert_eq!(&merged.summary, &one.summary);
            prop_assert_eq!(merged.resources_truncated, one.resources_truncated);
            let distinct: BTreeSet<&String> = names.iter().collect();
            prop_assert_eq!(one.summary.is_some(), distinct.len() > RESOURCE_SAMPLES);
            prop_assert_eq!(one.resources_truncated, distinct.len() > RESOURCE_SAMPLES);
            if let Some(s) = &one.summary {
                let pats = s.patterns();
                for n in &names {
                    prop_assert!(pats.iter().any(|p| crate::catalog::wildcard_match_case_sensitive(p, n)));
                }
            }
        }

        /// An identity's changes dealt to random "files", each file's
        /// changes merged in a random order, give what one pass gives, in
        /// the order (and with the evidence) of the nested `BTreeMap`s by
        /// service, family and channel that they replaced.
        #[test]
        fn changes_merge_exactly_across_files_and_orders(
            calls in proptest::collection::vec(
                ("(ec2|iam|s3|s3express)", 0usize..3, "(console|cli|iac|sdk)", "[A-C][a-z]{0,2}", "s[0-9]", 0i64..100),
                1..80,
            ),
            parts in 1usize..6,
            seed in any::<u64>(),
        ) {
            const FAMILIES: [AccessLevel; 3] = [
                AccessLevel::Write,
                AccessLevel::PermissionsManagement,
                AccessLevel::Tagging,
            ];
            let mut next = crate::usage::merge_test::xorshift(seed);
            let add = |c: &mut Changes, (svc, f, ch, act, sess, t): &(String, usize, String, String, String, i64)| {
                let occ = Occurrence { count: 1, first: *t, last: *t };
                let res = [format!("arn:aws:{svc}:::{act}")];
                c.stats_mut(svc, FAMILIES[*f], ch).add(occ, act, Some(sess), &res);
            };
            let mut one = Changes::default();
            let mut nested: BTreeMap<String, BTreeMap<AccessLevel, BTreeMap<String, ChangeStats>>> =
                BTreeMap::new();
            for call in &calls {
                add(&mut one, call);
                let (svc, f, ch, act, sess, t) = call;
                let occ = Occurrence { count: 1, first: *t, last: *t };
                let res = [format!("arn:aws:{svc}:::{act}")];
                nested
                    .entry(svc.clone())
                    .or_default()
                    .entry(FAMILIES[*f])
                    .or_default()
                    .entry(ch.clone())
                    .or_default()
                    .add(occ, act, Some(sess), &res);
            }
            let mut files = vec![Changes::default(); parts];
            for call in &calls {
                let i = (next() % parts as u64) as usize;
                add(&mut files[i], call);
            }
            let merged =
                crate::usage::merge_test::merge_randomly(files, &mut next, |a, b| a.merge(b));
            prop_assert_eq!(&merged, &one);
            let flat: Vec<(&str, AccessLevel, &str, &ChangeStats)> = nested
                .iter()
                .flat_map(|(s, by_f)| {
                    by_f.iter().flat_map(move |(f, by_c)| {
                        by_c.iter().map(move |(c, st)| (s.as_str(), *f, c.as_str(), st))
                    })
                })
                .collect();
            let ours: Vec<(&str, AccessLevel, &str, &ChangeStats)> = one
                .iter()
                .map(|c| (&*c.service, c.family, &*c.channel, &c.stats))
                .collect();
            prop_assert_eq!(ours, flat);
        }
    }
}

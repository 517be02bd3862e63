//! A bounded summary of every resource a principal used an action on: the
//! patterns that cover them, whatever their number.
//!
//! The sample of [`super::activity::ResourceSample`] keeps a few names as
//! evidence; once more distinct resources were seen than it holds, this
//! summary takes over. Every resource is folded in, none is dropped: the
//! summary's patterns always match every resource seen (a summary that lost
//! one would let `recommend` remove a used permission). To stay small it
//! widens, and only ever widens:
//!
//! - resources are grouped by ARN header (partition, service, Region,
//!   account) and resource type (the resource's first segment when a `/` or
//!   `:` ends it: `parameter/`, `function:`, an S3 object's bucket);
//! - within a group, when more than [`MAX_ITEMS`] distinct names are left,
//!   every name is cut back after its `d`-th `/` or `:` (plus `*`), `d` the
//!   largest depth at which [`MAX_ITEMS`] or fewer remain;
//! - when there are more than [`MAX_GROUPS`] groups, the grouping coarsens a
//!   level at a time: the resource type joins the names, then the Region,
//!   then the account become `*`, and last everything is `*`.
//!
//! Both choices are functions of the set of resources seen (the counts they
//! bound can only grow with the set, and only shrink with the depth or
//! level), so the summary of a union is the merge of the summaries, in any
//! order, by any number of threads: merging is exact, as the sample's is.
//!
//! A HyperLogLog sketch beside it estimates how many distinct resources a
//! widened summary stands for (an estimate, and said to be one). Knows
//! nothing of grants: `recommend` intersects the patterns with them.

use std::borrow::Cow;

/// Names kept per group before they are cut back to a shorter prefix.
pub const MAX_ITEMS: usize = 8;
/// Groups kept before the grouping coarsens.
pub const MAX_GROUPS: usize = 8;
/// Registers of the distinct-count sketch (2^8: about 6.5% standard error).
const REGISTERS: usize = 256;
/// A group whose names were never cut.
const UNCUT: u8 = u8::MAX;
/// The finest grouping: header and resource type.
const FINEST: u8 = 4;

/// Every resource an action was used on, as a bounded set of covering
/// patterns. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceSummary {
    /// 4: header and resource type; 3: header; 2: Region `*`; 1: Region and
    /// account `*`; 0: everything is `*`.
    level: u8,
    /// By key.
    groups: Vec<Group>,
    /// False when a source could not name every resource (a store written
    /// before summaries, an instance profile left unresolved, an Athena row
    /// with more distinct prefixes than the query returns): the patterns
    /// may then miss a resource, and nothing may be narrowed to them.
    complete: bool,
    sketch: Box<[u8; REGISTERS]>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Group {
    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:` and, at the finest level, the
    /// resource type; `""` for names that are not ARNs.
    key: Box<str>,
    /// Names are cut after their `depth`-th delimiter; [`UNCUT`]: never.
    depth: u8,
    /// The names within the group (after the key), cut at `depth`, sorted.
    items: Vec<Box<str>>,
}

impl Default for ResourceSummary {
    fn default() -> Self {
        ResourceSummary {
            level: FINEST,
            groups: Vec::new(),
            complete: true,
            sketch: Box::new([0; REGISTERS]),
        }
    }
}

fn is_delim(c: u8) -> bool {
    c == b'/' || c == b':'
}

/// The length of `arn:PARTITION:SERVICE:REGION:ACCOUNT:`, or `None` when `r`
/// is not an ARN.
fn header_len(r: &str) -> Option<usize> {
    if !r.starts_with("arn:") {
        return None;
    }
    let mut end = 0;
    for _ in 0..5 {
        end += r[end..].find(':')? + 1;
    }
    Some(end)
}

/// `s` cut after its `depth`-th delimiter, plus `*`, when anything follows
/// that delimiter; `*` at depth 0. Cutting twice cuts at the smaller depth.
fn cut(s: &str, depth: u8) -> Cow<'_, str> {
    if depth == UNCUT {
        return Cow::Borrowed(s);
    }
    if depth == 0 {
        return Cow::Borrowed("*");
    }
    let mut seen = 0;
    for (i, b) in s.bytes().enumerate() {
        if is_delim(b) {
            seen += 1;
            if seen == depth {
                return if i + 1 < s.len() {
                    Cow::Owned(format!("{}*", &s[..=i]))
                } else {
                    Cow::Borrowed(s)
                };
            }
        }
    }
    Cow::Borrowed(s)
}

fn delims(s: &str) -> usize {
    s.bytes().filter(|b| is_delim(*b)).count()
}

/// A header with its Region (level 2) or Region and account (level 1) made `*`.
fn coarse_header(h: &str, level: u8) -> String {
    let parts: Vec<&str> = h.split(':').collect();
    // arn, partition, service, region, account, "" (the trailing colon)
    match (parts.as_slice(), level) {
        ([arn, p, s, _, a, ..], 2) => format!("{arn}:{p}:{s}:*:{a}:"),
        ([arn, p, s, ..], _) => format!("{arn}:{p}:{s}:*:*:"),
        _ => h.to_string(),
    }
}

/// The group key and the name within the group of resource `r` at `level`
/// (1 to 4).
fn place(r: &str, level: u8) -> (Cow<'_, str>, &str) {
    let Some(h) = header_len(r) else {
        return (Cow::Borrowed(""), r);
    };
    let rest = &r[h..];
    match level {
        FINEST => match rest.bytes().position(is_delim) {
            Some(i) if i + 1 < rest.len() => (Cow::Borrowed(&r[..h + i + 1]), &rest[i + 1..]),
            _ => (Cow::Borrowed(&r[..h]), rest),
        },
        3 => (Cow::Borrowed(&r[..h]), rest),
        l => (Cow::Owned(coarse_header(&r[..h], l)), rest),
    }
}

/// 64-bit FNV-1a with a final mix: stable across builds and platforms, as
/// the stored sketch needs (the standard library's hasher is not).
fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Group {
    fn new(key: &str) -> Group {
        Group {
            key: key.into(),
            depth: UNCUT,
            items: Vec::new(),
        }
    }

    fn add(&mut self, item: &str) {
        let item = cut(item, self.depth);
        if let Err(at) = self.items.binary_search_by(|x| (**x).cmp(&item)) {
            self.items.insert(at, item.into());
            self.shrink();
        }
    }

    /// Cuts the names back, a delimiter at a time, until few enough remain.
    fn shrink(&mut self) {
        while self.items.len() > MAX_ITEMS {
            let depth = if self.depth == UNCUT {
                let deepest = self.items.iter().map(|i| delims(i)).max().unwrap_or(0);
                u8::try_from(deepest).unwrap_or(UNCUT - 1)
            } else {
                self.depth.saturating_sub(1)
            };
            self.recut(depth);
        }
    }

    fn recut(&mut self, depth: u8) {
        if depth >= self.depth {
            return;
        }
        self.depth = depth;
        let mut items: Vec<Box<str>> = self.items.iter().map(|i| cut(i, depth).into()).collect();
        items.sort();
        items.dedup();
        self.items = items;
    }

    fn merge(&mut self, o: Group) {
        let depth = self.depth.min(o.depth);
        self.recut(depth);
        for i in o.items {
            let i = cut(&i, depth);
            if let Err(at) = self.items.binary_search_by(|x| (**x).cmp(&i)) {
                self.items.insert(at, i.into());
            }
        }
        self.shrink();
    }

    /// The same names under the next coarser grouping (`to` is 3, 2, 1).
    fn coarsen(self, to: u8) -> Group {
        match to {
            3 => {
                let h = header_len(&self.key).unwrap_or(0);
                if h == self.key.len() {
                    return self;
                }
                // The resource type joins the names, one delimiter deeper.
                let ty = &self.key[h..];
                Group {
                    key: self.key[..h].into(),
                    depth: if self.depth == UNCUT {
                        UNCUT
                    } else {
                        self.depth.saturating_add(1).min(UNCUT - 1)
                    },
                    items: self
                        .items
                        .iter()
                        .map(|i| format!("{ty}{i}").into())
                        .collect(),
                }
            }
            l => Group {
                key: if self.key.is_empty() {
                    self.key
                } else {
                    coarse_header(&self.key, l).into()
                },
                ..self
            },
        }
    }
}

impl ResourceSummary {
    /// Adds one resource name (an ARN, or a name where no ARN was recorded).
    pub fn insert(&mut self, r: &str) {
        let h = hash(r);
        let reg = (h >> 56) as usize;
        let rank = ((h << 8) | 0x80).leading_zeros() as u8 + 1;
        if self.sketch[reg] < rank {
            self.sketch[reg] = rank;
        }
        if self.level == 0 {
            self.set_everything();
            return;
        }
        let (key, item) = place(r, self.level);
        match self.groups.binary_search_by(|g| (*g.key).cmp(&key)) {
            Ok(i) => self.groups[i].add(item),
            Err(at) => {
                let mut g = Group::new(&key);
                g.add(item);
                self.groups.insert(at, g);
                self.bound();
            }
        }
    }

    fn set_everything(&mut self) {
        if self.groups.len() != 1 {
            self.groups = vec![Group {
                key: "".into(),
                depth: 0,
                items: vec!["*".into()],
            }];
        }
    }

    /// Coarsens the grouping to `level`.
    fn coarsen_to(&mut self, level: u8) {
        while self.level > level {
            self.level -= 1;
            if self.level == 0 {
                self.set_everything();
                return;
            }
            let mut out: Vec<Group> = Vec::with_capacity(self.groups.len());
            for g in std::mem::take(&mut self.groups) {
                let g = g.coarsen(self.level);
                match out.binary_search_by(|x| x.key.cmp(&g.key)) {
                    Ok(i) => out[i].merge(g),
                    Err(at) => out.insert(at, g),
                }
            }
            self.groups = out;
        }
    }

    /// Coarsens while there are too many groups.
    fn bound(&mut self) {
        while self.groups.len() > MAX_GROUPS && self.level > 0 {
            let l = self.level - 1;
            self.coarsen_to(l);
        }
    }

    /// Adds everything `o` summarizes: the summary of the union.
    pub fn merge(&mut self, o: ResourceSummary) {
        self.complete &= o.complete;
        for (a, b) in self.sketch.iter_mut().zip(o.sketch.iter()) {
            *a = (*a).max(*b);
        }
        let mut o = o;
        let level = self.level.min(o.level);
        self.coarsen_to(level);
        o.coarsen_to(level);
        if level == 0 {
            return;
        }
        for g in o.groups {
            match self.groups.binary_search_by(|x| x.key.cmp(&g.key)) {
                Ok(i) => self.groups[i].merge(g),
                Err(at) => self.groups.insert(at, g),
            }
        }
        self.bound();
    }

    /// Marks the summary as possibly missing resources.
    pub fn mark_incomplete(&mut self) {
        self.complete = false;
    }

    /// Whether every resource folded in was named (see the field).
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether a pattern stands for more than the names it was made of.
    pub fn is_widened(&self) -> bool {
        self.level < FINEST || self.groups.iter().any(|g| g.depth != UNCUT)
    }

    /// The covering patterns, sorted: every resource folded in matches one
    /// of them (IAM's `*` wildcard).
    pub fn patterns(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .groups
            .iter()
            .flat_map(|g| g.items.iter().map(move |i| format!("{}{i}", g.key)))
            .collect();
        v.sort();
        v
    }

    /// The patterns a cut or a coarser grouping made (those that stand for
    /// more than one name seen).
    pub fn widened_patterns(&self) -> Vec<String> {
        if !self.is_widened() {
            return Vec::new();
        }
        let mut v = self.patterns();
        v.retain(|p| p.contains('*'));
        v
    }

    /// How many distinct resources were folded in: exact (`true`) when
    /// nothing was widened, else the sketch's estimate.
    pub fn distinct(&self) -> (u64, bool) {
        if !self.is_widened() {
            return (self.groups.iter().map(|g| g.items.len() as u64).sum(), true);
        }
        let m = REGISTERS as f64;
        let zeros = self.sketch.iter().filter(|r| **r == 0).count();
        let sum: f64 = self.sketch.iter().map(|r| 2f64.powi(-i32::from(*r))).sum();
        let alpha = 0.7213 / (1.0 + 1.079 / m);
        let raw = alpha * m * m / sum;
        let est = if raw <= 2.5 * m && zeros > 0 {
            m * (m / zeros as f64).ln()
        } else {
            raw
        };
        (est.round() as u64, false)
    }

    /// Approximate heap bytes, for the performance notes.
    pub fn heap_bytes(&self) -> usize {
        REGISTERS
            + self.groups.capacity() * std::mem::size_of::<Group>()
            + self
                .groups
                .iter()
                .map(|g| {
                    g.key.len()
                        + g.items.capacity() * std::mem::size_of::<Box<str>>()
                        + g.items.iter().map(|i| i.len()).sum::<usize>()
                })
                .sum::<usize>()
    }
}

impl<S: AsRef<str>> FromIterator<S> for ResourceSummary {
    fn from_iter<I: IntoIterator<Item = S>>(names: I) -> Self {
        let mut s = ResourceSummary::default();
        for r in names {
            s.insert(r.as_ref());
        }
        s
    }
}

/// The stored form (the activity store's `resource_summary` column, JSON).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    level: u8,
    complete: bool,
    groups: Vec<StoredGroup>,
    /// The sketch's registers, hex.
    sketch: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredGroup {
    key: String,
    /// Absent: never cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    depth: Option<u8>,
    items: Vec<String>,
}

impl serde::Serialize for ResourceSummary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            level: self.level,
            complete: self.complete,
            groups: self
                .groups
                .iter()
                .map(|g| StoredGroup {
                    key: g.key.to_string(),
                    depth: (g.depth != UNCUT).then_some(g.depth),
                    items: g.items.iter().map(|i| i.to_string()).collect(),
                })
                .collect(),
            sketch: self.sketch.iter().map(|b| format!("{b:02x}")).collect(),
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for ResourceSummary {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let st = Stored::deserialize(d)?;
        if st.level > FINEST {
            return Err(D::Error::custom(format!(
                "level {} is over {FINEST}",
                st.level
            )));
        }
        let bytes = st.sketch.as_bytes();
        if bytes.len() != REGISTERS * 2 {
            return Err(D::Error::custom("the sketch is not 256 hex bytes"));
        }
        let mut sketch = Box::new([0u8; REGISTERS]);
        for (i, pair) in bytes.chunks(2).enumerate() {
            let hex = std::str::from_utf8(pair).ok();
            sketch[i] = hex
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| D::Error::custom("the sketch is not hex"))?;
        }
        let mut groups: Vec<Group> = st
            .groups
            .into_iter()
            .map(|g| {
                let mut items: Vec<Box<str>> = g.items.into_iter().map(Into::into).collect();
                items.sort();
                items.dedup();
                Group {
                    key: g.key.into(),
                    depth: g.depth.unwrap_or(UNCUT),
                    items,
                }
            })
            .collect();
        groups.sort_by(|a, b| a.key.cmp(&b.key));
        if groups.windows(2).any(|w| w[0].key == w[1].key) {
            return Err(D::Error::custom("a group key is repeated"));
        }
        Ok(ResourceSummary {
            level: st.level,
            groups,
            complete: st.complete,
            sketch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::wildcard_match_case_sensitive;
    use proptest::prelude::*;

    #[test]
    fn cutting_twice_cuts_at_the_smaller_depth() {
        let s = "a/b:c/d";
        assert_eq!(cut(s, 0), "*");
        assert_eq!(cut(s, 1), "a/*");
        assert_eq!(cut(s, 3), "a/b:c/*");
        assert_eq!(cut(s, 4), s);
        assert_eq!(cut("a/b/", 2), "a/b/");
        for d in 0..5 {
            for e in 0..5 {
                assert_eq!(cut(&cut(s, d), e), cut(s, d.min(e)), "{d} {e}");
            }
        }
    }

    #[test]
    fn build_artifacts_summarize_to_their_common_prefix() {
        let mut s: ResourceSummary = (0..300)
            .map(|n| format!("arn:aws:s3:::ci-artifacts/artifacts/builds/{n}/app-{n}.tar.gz"))
            .collect();
        s.insert("arn:aws:s3:::ci-cache/deps.tar");
        s.insert("arn:aws:s3:::ci-artifacts");
        assert_eq!(
            s.patterns(),
            [
                "arn:aws:s3:::ci-artifacts",
                "arn:aws:s3:::ci-artifacts/artifacts/builds/*",
                "arn:aws:s3:::ci-cache/deps.tar",
            ]
        );
        assert!(s.is_widened());
        assert_eq!(
            s.widened_patterns(),
            ["arn:aws:s3:::ci-artifacts/artifacts/builds/*"]
        );
        let (n, exact) = s.distinct();
        assert!(!exact);
        // An estimate: 300 distinct, within a few standard errors (6.5% each).
        assert!((240..=360).contains(&n), "{n}");
    }

    #[test]
    fn few_names_stay_literal_and_are_counted_exactly() {
        let s: ResourceSummary = ["arn:aws:sqs:us-east-1:1:a", "arn:aws:sqs:us-east-1:1:b"]
            .into_iter()
            .collect();
        assert!(!s.is_widened());
        assert_eq!(s.distinct(), (2, true));
        assert!(s.widened_patterns().is_empty());
    }

    #[test]
    fn many_groups_coarsen_region_then_account_then_everything() {
        let regions: ResourceSummary = (0..20)
            .map(|i| format!("arn:aws:sqs:region-{i}:111:q"))
            .collect();
        assert_eq!(regions.patterns(), ["arn:aws:sqs:*:111:q"]);
        let accounts: ResourceSummary = (0..20)
            .flat_map(|i| (0..20).map(move |j| format!("arn:aws:sqs:r{i}:{j}:q")))
            .collect();
        assert_eq!(accounts.patterns(), ["arn:aws:sqs:*:*:q"]);
        let services: ResourceSummary = (0..20)
            .map(|i| format!("arn:aws:svc{i}:r:1:thing"))
            .collect();
        assert_eq!(services.patterns(), ["*"]);
    }

    #[test]
    fn stored_form_round_trips() {
        let s: ResourceSummary = (0..40)
            .map(|n| format!("arn:aws:ssm:us-east-1:1:parameter/app/{n}/x"))
            .chain(["not-an-arn".to_string()])
            .collect();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<ResourceSummary>(&json).unwrap(), s);
        assert!(serde_json::from_str::<ResourceSummary>(r#"{"level":9}"#).is_err());
    }

    fn arn() -> impl Strategy<Value = String> {
        let seg = prop::sample::select(vec!["a", "b", "c", "logs", "builds", "x*y", "1", "22"]);
        (
            prop::sample::select(vec!["s3", "ssm", "sqs", "lambda", "dynamodb"]),
            prop::sample::select(vec!["", "us-east-1", "eu-west-1"]),
            prop::sample::select(vec!["", "111111111111", "222222222222"]),
            prop::collection::vec((seg, prop::sample::select(vec!["/", ":"])), 0..5),
            prop::sample::select(vec!["k", "obj.json", "", "z"]),
        )
            .prop_map(|(svc, region, account, segs, last)| {
                let mut r = format!("arn:aws:{svc}:{region}:{account}:");
                for (s, d) in segs {
                    r.push_str(s);
                    r.push_str(d);
                }
                r.push_str(last);
                r
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random ARNs split across random "files", each summarized on its
        /// own and merged in a random order: the same summary as one pass,
        /// and its patterns match every ARN.
        #[test]
        fn merging_is_exact_and_covers_every_name(
            arns in prop::collection::vec(prop_oneof![arn(), "[a-z/]{1,12}"], 1..300),
            parts in 1usize..7,
            seed in any::<u64>(),
        ) {
            let whole: ResourceSummary = arns.iter().collect();
            let mut files: Vec<ResourceSummary> = vec![ResourceSummary::default(); parts];
            let mut next = crate::usage::merge_test::xorshift(seed);
            for a in &arns {
                let i = (next() % parts as u64) as usize;
                files[i].insert(a);
            }
            let merged =
                crate::usage::merge_test::merge_randomly(files, &mut next, |a, b| a.merge(b));
            prop_assert_eq!(&merged, &whole);
            let pats = whole.patterns();
            for a in &arns {
                prop_assert!(pats.iter().any(|p| wildcard_match_case_sensitive(p, a)), "{} not covered by {:?}", a, pats);
            }
            prop_assert!(whole.groups.len() <= MAX_GROUPS);
            prop_assert!(whole.groups.iter().all(|g| g.items.len() <= MAX_ITEMS));
        }
    }
}

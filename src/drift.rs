//! Drift between two `leastpriv.audit/v1` or `/v2` reports (`leastpriv diff
//! OLD NEW`, in any mix):
//! findings that appeared, were resolved or changed, and per principal the
//! grants added or removed and the actions that moved between used, unused
//! and unobservable.
//!
//! This module reads the JSON documents, through its own minimal
//! `Deserialize` types (fields may be added to v1, so unknown fields are
//! ignored), or the principal × action frames that `audit --format
//! parquet|csv` exports (`report::frames`), which carry the permissions but
//! no findings; it never looks at a snapshot. Its own output is
//! `leastpriv.diff/v1`, built from separate `Serialize` types.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// The schemas of the documents this module reads.
pub const INPUT_SCHEMA: &str = crate::report::json::SCHEMA;
pub const INPUT_SCHEMA_V2: &str = crate::report::json::SCHEMA_V2;
/// The schema of [`render_json`].
pub const SCHEMA: &str = "leastpriv.diff/v1";

/// Rules whose action lists shift from run to run (a category gains or loses
/// an action): an unmatched old and new finding of one of these rules on the
/// same principal are one finding that changed, not a resolved and a new one.
const CHANGEABLE_RULES: &[&str] = &[
    "unused-permissions",
    "secrets-access",
    "credential-minting",
    "privilege-escalation",
    "data-exfiltration",
    "resource-exposure",
];

/// The first column of a principal × action export (`report::frames::COLUMNS`,
/// which exists only with the `parquet` feature; a test keeps them equal).
const EXPORT_KEY_COLUMN: &[u8] = b"principal_arn";

/// Lines of one list shown by [`render_text`] before "and N more".
const TEXT_LIST_MAX: usize = 20;

/// A report that cannot be diffed.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("cannot read report `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not JSON, or a field of the wrong type.
    #[error(
        "invalid report `{path}` at line {line}, column {column}{}: {message}",
        at(json_path)
    )]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Where in the document, e.g. `principals[3].unused[0]`, when known.
        json_path: Option<String>,
        message: String,
    },
    #[error("`{path}` is not a `{INPUT_SCHEMA}` or `{INPUT_SCHEMA_V2}` report (schema {})", found.as_deref().map_or_else(|| "missing".to_string(), |s| format!("`{s}`")))]
    Schema {
        path: PathBuf,
        found: Option<String>,
    },
    /// A v2 action set that does not add up: a service it names by `"*"`
    /// or `except` that `catalog_services` does not list, or a `count`
    /// other than the number of actions it names.
    #[error("invalid report `{path}` at `{json_path}`: {message}")]
    Set {
        path: PathBuf,
        json_path: String,
        message: String,
    },
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    Export(#[from] crate::report::frames::FrameError),
    /// An export given to a build without Parquet and CSV support.
    #[error(
        "`{path}` is a Parquet or CSV export; this build of leastpriv reads only JSON reports"
    )]
    ExportUnsupported { path: PathBuf },
    /// A row of an export with a verdict this version does not know.
    #[error("invalid export `{path}`, row {row}: unknown verdict `{verdict}`")]
    Verdict {
        path: PathBuf,
        row: usize,
        verdict: String,
    },
}

fn at(json_path: &Option<String>) -> String {
    json_path
        .as_deref()
        .filter(|p| !p.is_empty() && *p != ".")
        .map(|p| format!(" (`{p}`)"))
        .unwrap_or_default()
}

// ---- input: the fields of leastpriv.audit/v1 that drift needs ----

#[derive(Deserialize)]
struct HeadIn {
    schema: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DocIn {
    #[serde(default)]
    schema: Option<serde_json::Value>,
    #[serde(default)]
    generated_at: Option<String>,
    principals: Vec<PrincipalIn>,
    findings: Vec<FindingIn>,
    /// v2: the actions of each service that a set names by `"*"` or `except`.
    #[serde(default)]
    catalog_services: BTreeMap<String, Vec<String>>,
    /// Set for an export, which has no findings: `parquet` or `csv`.
    #[serde(skip)]
    export: Option<&'static str>,
}

#[derive(Deserialize)]
struct PrincipalIn {
    arn: String,
    #[serde(default)]
    name: String,
    granted: usize,
    #[serde(default)]
    used: Vec<UsedIn>,
    #[serde(default)]
    unused: ActionsIn,
    #[serde(default)]
    unobservable: ActionsIn,
    #[serde(default)]
    denied: Vec<AttemptIn>,
}

/// A v1 list of `service:Action` names, or a v2 set grouped by service.
/// Read by hand rather than as an untagged enum, which would first copy a
/// whole (possibly million-name) list to see which variant it is.
#[derive(Debug, PartialEq, Eq)]
enum ActionsIn {
    Names(Vec<String>),
    Set {
        count: usize,
        by_service: Vec<(String, FormIn)>,
    },
}

impl Default for ActionsIn {
    fn default() -> Self {
        ActionsIn::Names(Vec::new())
    }
}

/// One service of a v2 set.
#[derive(Debug, PartialEq, Eq)]
enum FormIn {
    /// `"*"`.
    All,
    Names(Vec<String>),
    Except(Vec<String>),
}

/// A list of names, as a visitor meets it.
fn names<'de, A: serde::de::SeqAccess<'de>>(mut seq: A) -> Result<Vec<String>, A::Error> {
    let mut names = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
    while let Some(n) = seq.next_element()? {
        names.push(n);
    }
    Ok(names)
}

impl<'de> Deserialize<'de> for ActionsIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ActionsIn;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of action names (v1) or an action set (v2)")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<ActionsIn, A::Error> {
                names(seq).map(ActionsIn::Names)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ActionsIn, A::Error> {
                let (mut count, mut by_service) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "count" => count = Some(map.next_value()?),
                        "by_service" => by_service = Some(map.next_value::<ByServiceIn>()?.0),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ActionsIn::Set {
                    count: count.ok_or_else(|| de::Error::missing_field("count"))?,
                    by_service: by_service.ok_or_else(|| de::Error::missing_field("by_service"))?,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// `by_service`, in the document's order.
struct ByServiceIn(Vec<(String, FormIn)>);

impl<'de> Deserialize<'de> for ByServiceIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ByServiceIn;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a map of service prefix to `\"*\"`, a list of names or `{\"except\": [...]}`",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ByServiceIn, A::Error> {
                let mut v = Vec::new();
                while let Some((k, f)) = map.next_entry()? {
                    v.push((k, f));
                }
                Ok(ByServiceIn(v))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for FormIn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{self, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FormIn;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`\"*\"`, a list of action names or `{\"except\": [...]}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FormIn, E> {
                if v == "*" {
                    Ok(FormIn::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<FormIn, A::Error> {
                names(seq).map(FormIn::Names)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FormIn, A::Error> {
                let mut except = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "except" {
                        except = Some(map.next_value()?);
                    } else {
                        return Err(de::Error::unknown_field(&key, &["except"]));
                    }
                }
                Ok(FormIn::Except(
                    except.ok_or_else(|| de::Error::missing_field("except"))?,
                ))
            }
        }
        d.deserialize_any(V)
    }
}

impl ActionsIn {
    /// Checks a v2 set against the report's `catalog_services`: each
    /// service appears once, every service written as `"*"` or `except` is
    /// listed there, every name an `except` leaves out is one of its
    /// actions, and `count` is the number of actions the set names. An
    /// error is the message.
    fn check(&self, catalog: &HashMap<&str, HashSet<&str>>) -> Result<(), String> {
        let ActionsIn::Set { count, by_service } = self else {
            return Ok(());
        };
        // leastpriv writes services in order, which rules out a repeat.
        if !by_service.windows(2).all(|w| w[0].0 < w[1].0) {
            let mut seen = BTreeSet::new();
            if let Some((svc, _)) = by_service.iter().find(|(svc, _)| !seen.insert(svc)) {
                return Err(format!("service `{svc}` appears twice"));
            }
        }
        let mut named = 0;
        for (svc, form) in by_service {
            if svc.is_empty() || svc.contains(':') {
                return Err(format!("`{svc}` is not a service prefix"));
            }
            let listed = || {
                catalog.get(svc.as_str()).ok_or_else(|| {
                    format!("service `{svc}` is written as `*` or `except`, but `catalog_services` does not list its actions")
                })
            };
            named += match form {
                FormIn::Names(names) => names.iter().collect::<BTreeSet<_>>().len(),
                FormIn::All => listed()?.len(),
                FormIn::Except(except) => {
                    let all = listed()?;
                    let except: BTreeSet<&str> = except.iter().map(String::as_str).collect();
                    if let Some(n) = except.iter().find(|n| !all.contains(*n)) {
                        return Err(format!(
                            "`{svc}` excepts `{n}`, which `catalog_services` does not list for `{svc}`"
                        ));
                    }
                    all.len() - except.len()
                }
            };
        }
        if named != *count {
            return Err(format!(
                "`count` is {count}, but the set names {named} actions"
            ));
        }
        Ok(())
    }

    /// Adds the set, split by service, to `into[..][slot]`: a v1 list by
    /// the prefix of each name, a v2 set as it is written.
    fn split<'a>(&'a self, into: &mut BTreeMap<&'a str, ServiceActions<'a>>, slot: usize) {
        match self {
            ActionsIn::Names(v) => {
                for n in v {
                    let (svc, name) = split_name(n);
                    let part = &mut into.entry(svc).or_default().sets[slot];
                    match part {
                        Some(Part::Names(names)) => names.push(name),
                        _ => *part = Some(Part::Names(vec![name])),
                    }
                }
            }
            ActionsIn::Set { by_service, .. } => {
                for (svc, form) in by_service {
                    into.entry(svc.as_str()).or_default().sets[slot] = Some(Part::Form(form));
                }
            }
        }
    }
}

/// `service:Action` as (service, Action); a name without a colon (only in a
/// hand-edited report) as ("", name), which no service prefix is.
fn split_name(n: &str) -> (&str, &str) {
    n.split_once(':').unwrap_or(("", n))
}

fn join_name(svc: &str, name: &str) -> String {
    if svc.is_empty() {
        name.to_string()
    } else {
        format!("{svc}:{name}")
    }
}

/// One service's part of an unused or unobservable set.
#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    /// From a v1 list, in the report's order.
    Names(Vec<&'a str>),
    /// From a v2 set.
    Form(&'a FormIn),
}

impl<'a> Part<'a> {
    /// The names (without prefix) of the part; `all` is the service's
    /// actions from the report's `catalog_services`.
    fn names(&self, all: &'a [String]) -> Vec<&'a str> {
        match self {
            Part::Names(v) => v.clone(),
            Part::Form(FormIn::Names(v)) => v.iter().map(String::as_str).collect(),
            Part::Form(FormIn::All) => all.iter().map(String::as_str).collect(),
            Part::Form(FormIn::Except(except)) => {
                let except: BTreeSet<&str> = except.iter().map(String::as_str).collect();
                all.iter()
                    .map(String::as_str)
                    .filter(|n| !except.contains(n))
                    .collect()
            }
        }
    }
}

/// One principal's actions of one service in one report.
#[derive(Debug, Default, PartialEq, Eq)]
struct ServiceActions<'a> {
    /// Unobservable, then unused: the order in which a later status wins.
    sets: [Option<Part<'a>>; 2],
    /// Used actions (name without prefix) and whether each was granted.
    used: Vec<(&'a str, bool)>,
}
#[derive(Deserialize, PartialEq, Eq)]
struct UsedIn {
    action: String,
    #[serde(default = "yes")]
    granted: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct AttemptIn {
    action: String,
    #[serde(default)]
    count: u64,
}

#[derive(Deserialize)]
struct FindingIn {
    rule: String,
    severity: String,
    principal: String,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    message: String,
}

// ---- the drift ----

/// Where an action stands for a principal in one report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Used,
    Unused,
    Unobservable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Used => "used",
            Status::Unused => "unused",
            Status::Unobservable => "unobservable",
        }
    }
}

/// A finding as a report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingRef {
    pub rule: String,
    pub severity: String,
    pub principal: String,
    pub actions: Vec<String>,
    pub message: String,
}

/// One finding present in both reports with a different action list or severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingChange {
    pub rule: String,
    pub principal: String,
    pub severity_old: String,
    pub severity_new: String,
    pub actions_added: Vec<String>,
    pub actions_removed: Vec<String>,
    /// The new report's message.
    pub message: String,
}

/// A principal present in one report only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalRef {
    pub arn: String,
    pub name: String,
    pub granted: usize,
    pub used: usize,
}

/// A granted action, with where it stands in the report that has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub action: String,
    pub status: Status,
}

/// An action granted in both reports whose status changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Move {
    pub action: String,
    pub from: Status,
    pub to: Status,
}

/// A denied attempt seen in the new report and not in the old one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub action: String,
    pub count: u64,
}

/// The permission drift of a principal present in both reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalDrift {
    pub arn: String,
    pub name: String,
    pub granted_old: usize,
    pub granted_new: usize,
    /// Granted in the new report only (status in the new report).
    pub grants_added: Vec<Grant>,
    /// Granted in the old report only (status in the old report).
    pub grants_removed: Vec<Grant>,
    /// Actions in both reports whose status changed, by action. Used without a
    /// grant counts as used.
    pub moved: Vec<Move>,
    pub denied_new: Vec<Denied>,
}

impl PrincipalDrift {
    pub fn is_empty(&self) -> bool {
        self.granted_old == self.granted_new
            && self.grants_added.is_empty()
            && self.grants_removed.is_empty()
            && self.moved.is_empty()
            && self.denied_new.is_empty()
    }

    /// Actions now used that were unused or unobservable.
    pub fn newly_used(&self) -> impl Iterator<Item = &Move> {
        self.moved.iter().filter(|m| m.to == Status::Used)
    }

    /// Actions now unused that were used or unobservable.
    pub fn newly_unused(&self) -> impl Iterator<Item = &Move> {
        self.moved.iter().filter(|m| m.to == Status::Unused)
    }
}

/// One report, as named in the drift.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRef {
    pub path: PathBuf,
    pub generated_at: Option<String>,
    /// `parquet` or `csv` for a principal × action export (no findings);
    /// `None` for a JSON report.
    pub export: Option<&'static str>,
}

/// Everything that differs between two reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Drift {
    pub old: ReportRef,
    pub new: ReportRef,
    /// In the new report's order (most urgent first).
    pub findings_new: Vec<FindingRef>,
    /// In the old report's order.
    pub findings_resolved: Vec<FindingRef>,
    pub findings_changed: Vec<FindingChange>,
    pub principals_added: Vec<PrincipalRef>,
    pub principals_removed: Vec<PrincipalRef>,
    /// Principals in both reports with a non-empty drift, in the new report's order.
    pub principals_changed: Vec<PrincipalDrift>,
}

impl Drift {
    /// Findings are compared only between two JSON reports: an export lists
    /// permissions, not findings.
    pub fn findings_compared(&self) -> bool {
        self.old.export.is_none() && self.new.export.is_none()
    }
}

impl Drift {
    /// True when the two reports agree on findings and permissions.
    pub fn is_empty(&self) -> bool {
        self.findings_new.is_empty()
            && self.findings_resolved.is_empty()
            && self.findings_changed.is_empty()
            && self.principals_added.is_empty()
            && self.principals_removed.is_empty()
            && self.principals_changed.is_empty()
    }

    /// Whether a new finding, or a changed finding in its new form, is at or
    /// above `min` (for a `--fail-on` on `diff`). Unknown severities count as failing.
    pub fn worsened(&self, min: crate::rules::Severity) -> bool {
        let at_least = |s: &str| crate::rules::Severity::parse(s).is_none_or(|s| s >= min);
        self.findings_new.iter().any(|f| at_least(&f.severity))
            || self.findings_changed.iter().any(|c| {
                at_least(&c.severity_new)
                    && (!c.actions_added.is_empty() || c.severity_new != c.severity_old)
            })
    }
}

fn read(path: &Path) -> Result<DocIn, DriftError> {
    let read_err = |source| DriftError::Read {
        path: path.to_path_buf(),
        source,
    };
    let bytes = std::fs::read(path).map_err(read_err)?;
    // Parquet's magic number, or a CSV header row naming the export's key column.
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let csv_header = !first_line.trim_ascii_start().starts_with(b"{")
        && first_line
            .windows(EXPORT_KEY_COLUMN.len())
            .any(|w| w == EXPORT_KEY_COLUMN);
    if bytes.starts_with(b"PAR1") || csv_header {
        return read_export(path, bytes.starts_with(b"PAR1"));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| read_err(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    let json_err = |e: serde_json::Error, json_path: Option<String>| DriftError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        json_path,
        message: e.to_string(),
    };
    let schema = |found: Option<serde_json::Value>| match found {
        Some(serde_json::Value::String(s)) if s == INPUT_SCHEMA || s == INPUT_SCHEMA_V2 => Ok(()),
        other => Err(DriftError::Schema {
            path: path.to_path_buf(),
            found: other.map(|v| match v {
                serde_json::Value::String(s) => s,
                v => v.to_string(),
            }),
        }),
    };
    // A report is read once, without tracking where the reader is (a third
    // of the time of a large diff). Only a document that fails is read
    // again: for its schema first, so that another document gets a clear
    // error rather than a missing field, then for the place of the error.
    let doc = match serde_json::from_str::<DocIn>(&text) {
        Ok(doc) => doc,
        Err(_) => {
            let head: HeadIn = serde_json::from_str(&text).map_err(|e| json_err(e, None))?;
            schema(head.schema)?;
            let mut de = serde_json::Deserializer::from_str(&text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let p = e.path().to_string();
                json_err(e.into_inner(), Some(p))
            })?
        }
    };
    schema(doc.schema.clone())?;
    // Each service's actions as a set, once: a large account's sets name
    // the same services thousands of times.
    let catalog: HashMap<&str, HashSet<&str>> = doc
        .catalog_services
        .iter()
        .map(|(svc, names)| (svc.as_str(), names.iter().map(String::as_str).collect()))
        .collect();
    for (i, p) in doc.principals.iter().enumerate() {
        for (field, set) in [("unused", &p.unused), ("unobservable", &p.unobservable)] {
            set.check(&catalog).map_err(|message| DriftError::Set {
                path: path.to_path_buf(),
                json_path: format!("principals[{i}].{field}"),
                message,
            })?;
        }
    }
    Ok(doc)
}

/// An export as the principals of a report: each principal's rows give its
/// used, unused and unobservable actions and its refused attempts, in the
/// order the principals first appear.
#[cfg(feature = "parquet")]
fn read_export(path: &Path, parquet: bool) -> Result<DocIn, DriftError> {
    let rows = crate::report::frames::read_export(path)?;
    let mut principals: Vec<PrincipalIn> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut granted: Vec<BTreeSet<String>> = Vec::new();
    // Each principal's unused and unobservable actions.
    let mut lists: Vec<[Vec<String>; 2]> = Vec::new();
    for (i, r) in rows.into_iter().enumerate() {
        let at = *index.entry(r.principal_arn.clone()).or_insert_with(|| {
            principals.push(PrincipalIn {
                arn: r.principal_arn.clone(),
                name: r.principal_name.clone(),
                granted: 0,
                used: vec![],
                unused: ActionsIn::default(),
                unobservable: ActionsIn::default(),
                denied: vec![],
            });
            granted.push(BTreeSet::new());
            lists.push(Default::default());
            principals.len() - 1
        });
        let p = &mut principals[at];
        match r.verdict.as_str() {
            "used" => p.used.push(UsedIn {
                action: r.action.clone(),
                granted: r.granted,
            }),
            "unused" => lists[at][0].push(r.action.clone()),
            "unobservable" => lists[at][1].push(r.action.clone()),
            "denied" => p.denied.push(AttemptIn {
                action: r.action.clone(),
                count: r.count,
            }),
            // A failed call is neither use nor a refusal; reports do not diff it.
            "failed" => continue,
            other => {
                return Err(DriftError::Verdict {
                    path: path.to_path_buf(),
                    row: i + 1,
                    verdict: other.to_string(),
                })
            }
        }
        if r.granted && matches!(r.verdict.as_str(), "used" | "unused" | "unobservable") {
            granted[at].insert(r.action);
        }
    }
    for ((p, g), [unused, unobservable]) in principals.iter_mut().zip(&granted).zip(lists) {
        p.granted = g.len();
        p.unused = ActionsIn::Names(unused);
        p.unobservable = ActionsIn::Names(unobservable);
    }
    Ok(DocIn {
        schema: None,
        generated_at: None,
        principals,
        findings: vec![],
        catalog_services: BTreeMap::new(),
        export: Some(if parquet { "parquet" } else { "csv" }),
    })
}

#[cfg(not(feature = "parquet"))]
fn read_export(path: &Path, _parquet: bool) -> Result<DocIn, DriftError> {
    Err(DriftError::ExportUnsupported {
        path: path.to_path_buf(),
    })
}

fn finding_ref(f: &FindingIn) -> FindingRef {
    FindingRef {
        rule: f.rule.clone(),
        severity: f.severity.clone(),
        principal: f.principal.clone(),
        actions: f.actions.clone(),
        message: f.message.clone(),
    }
}

fn sorted(v: &[String]) -> Vec<&str> {
    let mut s: Vec<&str> = v.iter().map(String::as_str).collect();
    s.sort_unstable();
    s.dedup();
    s
}

fn diff_findings(old: &[FindingIn], new: &[FindingIn], d: &mut Drift) {
    // Identity: rule, principal and the sorted actions; duplicates match one to one.
    let key = |f: &'_ FindingIn| -> (String, String, Vec<String>) {
        (
            f.rule.clone(),
            f.principal.clone(),
            sorted(&f.actions).into_iter().map(str::to_string).collect(),
        )
    };
    let mut pool: BTreeMap<(String, String, Vec<String>), Vec<usize>> = BTreeMap::new();
    for (i, f) in old.iter().enumerate().rev() {
        pool.entry(key(f)).or_default().push(i);
    }
    let mut old_matched = vec![false; old.len()];
    let mut new_unmatched = Vec::new();
    let mut exact: Vec<(usize, usize)> = Vec::new();
    for (j, f) in new.iter().enumerate() {
        match pool.get_mut(&key(f)).and_then(Vec::pop) {
            Some(i) => {
                old_matched[i] = true;
                exact.push((i, j));
            }
            None => new_unmatched.push(j),
        }
    }
    let old_unmatched: Vec<usize> = (0..old.len()).filter(|&i| !old_matched[i]).collect();

    // Changeable rules: pair what is left on rule and principal, when that pair
    // is unambiguous on both sides.
    let count = |idx: &[usize], list: &[FindingIn], r: &str, p: &str| {
        idx.iter()
            .filter(|&&k| list[k].rule == r && list[k].principal == p)
            .count()
    };
    let mut paired: Vec<(usize, usize)> = Vec::new();
    for &j in &new_unmatched {
        let f = &new[j];
        if !CHANGEABLE_RULES.contains(&f.rule.as_str()) {
            continue;
        }
        if count(&new_unmatched, new, &f.rule, &f.principal) != 1
            || count(&old_unmatched, old, &f.rule, &f.principal) != 1
        {
            continue;
        }
        if let Some(&i) = old_unmatched
            .iter()
            .find(|&&i| old[i].rule == f.rule && old[i].principal == f.principal)
        {
            paired.push((i, j));
        }
    }
    let paired_old: BTreeSet<usize> = paired.iter().map(|p| p.0).collect();
    let paired_new: BTreeSet<usize> = paired.iter().map(|p| p.1).collect();

    let mut changes: Vec<(usize, FindingChange)> = Vec::new();
    for &(i, j) in exact.iter().chain(&paired) {
        let (o, n) = (&old[i], &new[j]);
        let (so, sn) = (sorted(&o.actions), sorted(&n.actions));
        let added: Vec<String> = sn
            .iter()
            .filter(|a| so.binary_search(a).is_err())
            .map(|a| a.to_string())
            .collect();
        let removed: Vec<String> = so
            .iter()
            .filter(|a| sn.binary_search(a).is_err())
            .map(|a| a.to_string())
            .collect();
        if added.is_empty() && removed.is_empty() && o.severity == n.severity {
            continue;
        }
        changes.push((
            j,
            FindingChange {
                rule: n.rule.clone(),
                principal: n.principal.clone(),
                severity_old: o.severity.clone(),
                severity_new: n.severity.clone(),
                actions_added: added,
                actions_removed: removed,
                message: n.message.clone(),
            },
        ));
    }
    changes.sort_by_key(|c| c.0);
    d.findings_changed = changes.into_iter().map(|c| c.1).collect();
    d.findings_new = new_unmatched
        .iter()
        .filter(|j| !paired_new.contains(j))
        .map(|&j| finding_ref(&new[j]))
        .collect();
    d.findings_resolved = old_unmatched
        .iter()
        .filter(|i| !paired_old.contains(i))
        .map(|&i| finding_ref(&old[i]))
        .collect();
}

/// One principal's actions in one report, by service.
type Side<'a> = BTreeMap<&'a str, ServiceActions<'a>>;

fn side(p: &PrincipalIn) -> Side<'_> {
    let mut by_service = BTreeMap::new();
    p.unobservable.split(&mut by_service, 0);
    p.unused.split(&mut by_service, 1);
    for u in &p.used {
        let (svc, name) = split_name(&u.action);
        by_service
            .entry(svc)
            .or_default()
            .used
            .push((name, u.granted));
    }
    by_service
}

/// Each action of one service, with its status and whether it is granted.
fn statuses<'a>(
    s: Option<&ServiceActions<'a>>,
    all: &'a [String],
) -> BTreeMap<&'a str, (Status, bool)> {
    let mut status = BTreeMap::new();
    let Some(s) = s else {
        return status;
    };
    for (part, st) in s.sets.iter().zip([Status::Unobservable, Status::Unused]) {
        for name in part.iter().flat_map(|p| p.names(all)) {
            status.insert(name, (st, true));
        }
    }
    for &(name, granted) in &s.used {
        let e = status.entry(name).or_insert((Status::Used, false));
        *e = (Status::Used, e.1 || granted);
    }
    status
}

/// The catalogs of two reports, and the services whose actions they list
/// alike: where both reports write a service the same way, and that way
/// means the same actions, nothing of it changed.
struct Catalogs<'a> {
    old: &'a BTreeMap<String, Vec<String>>,
    new: &'a BTreeMap<String, Vec<String>>,
    same: HashSet<&'a str>,
}

impl<'a> Catalogs<'a> {
    fn new(old: &'a BTreeMap<String, Vec<String>>, new: &'a BTreeMap<String, Vec<String>>) -> Self {
        let same = old
            .iter()
            .filter(|(k, v)| new.get(*k) == Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        Catalogs { old, new, same }
    }

    /// Whether a service's actions are the same in both reports without
    /// listing them: written alike, and `"*"` and `except` standing for
    /// the same actions.
    fn unchanged(&self, svc: &str, o: &ServiceActions, n: &ServiceActions) -> bool {
        let by_catalog = |s: &ServiceActions| {
            s.sets
                .iter()
                .flatten()
                .any(|p| matches!(p, Part::Form(FormIn::All) | Part::Form(FormIn::Except(_))))
        };
        o == n && (!by_catalog(o) || self.same.contains(svc))
    }

    /// Whether a principal's used, unused and unobservable actions are the
    /// same in both reports without splitting them by service: written
    /// alike, with every `"*"` and `except` standing for the same actions.
    /// Most principals of a nightly diff are.
    fn principal_unchanged(&self, o: &PrincipalIn, n: &PrincipalIn) -> bool {
        let same_catalog = |a: &ActionsIn| match a {
            ActionsIn::Names(_) => true,
            ActionsIn::Set { by_service, .. } => by_service
                .iter()
                .all(|(svc, f)| matches!(f, FormIn::Names(_)) || self.same.contains(svc.as_str())),
        };
        o.used == n.used
            && o.unused == n.unused
            && o.unobservable == n.unobservable
            && same_catalog(&n.unused)
            && same_catalog(&n.unobservable)
    }
}

/// `o` and `n`, compared service by service.
fn diff_principal<'a>(
    o: &'a PrincipalIn,
    n: &'a PrincipalIn,
    catalogs: &Catalogs<'a>,
) -> PrincipalDrift {
    let (so, sn) = if catalogs.principal_unchanged(o, n) {
        (Side::new(), Side::new())
    } else {
        (side(o), side(n))
    };
    let mut drift = PrincipalDrift {
        arn: n.arn.clone(),
        name: n.name.clone(),
        granted_old: o.granted,
        granted_new: n.granted,
        grants_added: vec![],
        grants_removed: vec![],
        moved: vec![],
        denied_new: vec![],
    };
    let services: BTreeSet<&str> = so.keys().chain(sn.keys()).copied().collect();
    for svc in services {
        let (os, ns) = (so.get(svc), sn.get(svc));
        if let (Some(os), Some(ns)) = (os, ns) {
            if catalogs.unchanged(svc, os, ns) {
                continue;
            }
        }
        let all = |c: &'a BTreeMap<String, Vec<String>>| c.get(svc).map_or(&[][..], Vec::as_slice);
        let (mo, mn) = (
            statuses(os, all(catalogs.old)),
            statuses(ns, all(catalogs.new)),
        );
        let granted_only = |a: &BTreeMap<&str, (Status, bool)>,
                            b: &BTreeMap<&str, (Status, bool)>| {
            a.iter()
                .filter(|(k, (_, g))| *g && !b.get(*k).is_some_and(|x| x.1))
                .map(|(k, &(status, _))| Grant {
                    action: join_name(svc, k),
                    status,
                })
                .collect::<Vec<_>>()
        };
        drift.grants_added.extend(granted_only(&mn, &mo));
        drift.grants_removed.extend(granted_only(&mo, &mn));
        drift
            .moved
            .extend(mn.iter().filter_map(|(a, &(to, _))| match mo.get(a) {
                Some(&(from, _)) if from != to => Some(Move {
                    action: join_name(svc, a),
                    from,
                    to,
                }),
                _ => None,
            }));
    }
    // By name, as a list of whole names sorts ("s3-outposts:" before "s3:").
    drift.grants_added.sort_by(|a, b| a.action.cmp(&b.action));
    drift.grants_removed.sort_by(|a, b| a.action.cmp(&b.action));
    drift.moved.sort_by(|a, b| a.action.cmp(&b.action));
    let old_denied: BTreeSet<&str> = o.denied.iter().map(|x| x.action.as_str()).collect();
    drift.denied_new = n
        .denied
        .iter()
        .filter(|x| !old_denied.contains(x.action.as_str()))
        .map(|x| Denied {
            action: x.action.clone(),
            count: x.count,
        })
        .collect();
    drift
}

fn principal_ref(p: &PrincipalIn) -> PrincipalRef {
    PrincipalRef {
        arn: p.arn.clone(),
        name: p.name.clone(),
        granted: p.granted,
        used: p.used.len(),
    }
}

/// Reads two `leastpriv.audit/v1` reports and computes what changed from `old` to `new`.
pub fn diff(old: &Path, new: &Path) -> Result<Drift, DriftError> {
    let o = read(old)?;
    let n = read(new)?;
    let mut d = Drift {
        old: ReportRef {
            path: old.to_path_buf(),
            generated_at: o.generated_at.clone(),
            export: o.export,
        },
        new: ReportRef {
            path: new.to_path_buf(),
            generated_at: n.generated_at.clone(),
            export: n.export,
        },
        findings_new: vec![],
        findings_resolved: vec![],
        findings_changed: vec![],
        principals_added: vec![],
        principals_removed: vec![],
        principals_changed: vec![],
    };
    if d.findings_compared() {
        diff_findings(&o.findings, &n.findings, &mut d);
    }
    let catalogs = Catalogs::new(&o.catalog_services, &n.catalog_services);
    // An ARN listed twice is a broken report; the first one counts.
    let mut old_by_arn: BTreeMap<&str, &PrincipalIn> = BTreeMap::new();
    for p in o.principals.iter().rev() {
        old_by_arn.insert(&p.arn, p);
    }
    let new_arns: BTreeSet<&str> = n.principals.iter().map(|p| p.arn.as_str()).collect();
    let mut seen = BTreeSet::new();
    for p in &n.principals {
        if !seen.insert(p.arn.as_str()) {
            continue;
        }
        match old_by_arn.get(p.arn.as_str()) {
            None => d.principals_added.push(principal_ref(p)),
            Some(op) => {
                let pd = diff_principal(op, p, &catalogs);
                if !pd.is_empty() {
                    d.principals_changed.push(pd);
                }
            }
        }
    }
    let mut seen = BTreeSet::new();
    d.principals_removed = o
        .principals
        .iter()
        .filter(|p| !new_arns.contains(p.arn.as_str()) && seen.insert(p.arn.as_str()))
        .map(principal_ref)
        .collect();
    Ok(d)
}

// ---- text ----

fn list(out: &mut String, indent: &str, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    for s in items.take(TEXT_LIST_MAX) {
        out.push_str(indent);
        out.push_str(&s);
        out.push('\n');
    }
    if n > TEXT_LIST_MAX {
        out.push_str(&format!("{indent}... and {} more\n", n - TEXT_LIST_MAX));
    }
}

fn actions_short(a: &[String]) -> String {
    match a.len() {
        0 => String::new(),
        1..=3 => format!(" [{}]", a.join(", ")),
        n => format!(" [{}, ... {} more]", a[..3].join(", "), n - 3),
    }
}

/// A readable account of the drift.
pub fn render_text(d: &Drift) -> String {
    let mut out = String::new();
    let when = |r: &ReportRef| match (&r.generated_at, r.export) {
        (Some(g), _) => format!(" ({g})"),
        (None, Some(f)) => format!(" ({f} export)"),
        (None, None) => String::new(),
    };
    out.push_str(&format!(
        "leastpriv diff\n  old: {}{}\n  new: {}{}\n\n",
        d.old.path.display(),
        when(&d.old),
        d.new.path.display(),
        when(&d.new)
    ));
    if !d.findings_compared() {
        out.push_str("findings: not compared (an export lists permissions, not findings)\n\n");
    }
    if d.is_empty() {
        out.push_str(if d.findings_compared() {
            "no drift: same findings and same permissions\n"
        } else {
            "no drift: same permissions\n"
        });
        return out;
    }
    out.push_str(&format!(
        "findings: {} new, {} resolved, {} changed\nprincipals: {} added, {} removed, {} changed\n",
        d.findings_new.len(),
        d.findings_resolved.len(),
        d.findings_changed.len(),
        d.principals_added.len(),
        d.principals_removed.len(),
        d.principals_changed.len()
    ));
    let finding = |f: &FindingRef| {
        format!(
            "{:<8} {} {}{}",
            f.severity,
            f.rule,
            f.principal,
            actions_short(&f.actions)
        )
    };
    if !d.findings_new.is_empty() {
        out.push_str("\nnew findings:\n");
        list(&mut out, "  + ", d.findings_new.iter().map(finding));
    }
    if !d.findings_resolved.is_empty() {
        out.push_str("\nresolved findings:\n");
        list(&mut out, "  - ", d.findings_resolved.iter().map(finding));
    }
    if !d.findings_changed.is_empty() {
        out.push_str("\nchanged findings:\n");
        for c in &d.findings_changed {
            let sev = if c.severity_old == c.severity_new {
                c.severity_new.clone()
            } else {
                format!("{} -> {}", c.severity_old, c.severity_new)
            };
            out.push_str(&format!("  ~ {} {} ({sev})\n", c.rule, c.principal));
            list(&mut out, "      + ", c.actions_added.iter().cloned());
            list(&mut out, "      - ", c.actions_removed.iter().cloned());
        }
    }
    if !d.principals_added.is_empty() {
        out.push_str("\nprincipals added:\n");
        list(
            &mut out,
            "  + ",
            d.principals_added
                .iter()
                .map(|p| format!("{} ({} granted, {} used)", p.arn, p.granted, p.used)),
        );
    }
    if !d.principals_removed.is_empty() {
        out.push_str("\nprincipals removed:\n");
        list(
            &mut out,
            "  - ",
            d.principals_removed
                .iter()
                .map(|p| format!("{} ({} granted, {} used)", p.arn, p.granted, p.used)),
        );
    }
    if !d.principals_changed.is_empty() {
        out.push_str("\npermission drift:\n");
        for p in &d.principals_changed {
            out.push_str(&format!("  {}\n", p.arn));
            if p.granted_old != p.granted_new {
                out.push_str(&format!(
                    "    granted: {} -> {}\n",
                    p.granted_old, p.granted_new
                ));
            }
            let grants = |g: &[Grant]| -> Vec<String> {
                g.iter()
                    .map(|g| format!("{} ({})", g.action, g.status.as_str()))
                    .collect()
            };
            if !p.grants_added.is_empty() {
                out.push_str("    grants added:\n");
                list(&mut out, "      + ", grants(&p.grants_added).into_iter());
            }
            if !p.grants_removed.is_empty() {
                out.push_str("    grants removed:\n");
                list(&mut out, "      - ", grants(&p.grants_removed).into_iter());
            }
            for (title, to) in [
                ("newly used", Status::Used),
                ("newly unused", Status::Unused),
                ("newly unobservable", Status::Unobservable),
            ] {
                let moves: Vec<String> = p
                    .moved
                    .iter()
                    .filter(|m| m.to == to)
                    .map(|m| format!("{} (was {})", m.action, m.from.as_str()))
                    .collect();
                if !moves.is_empty() {
                    out.push_str(&format!("    {title}:\n"));
                    list(&mut out, "      ", moves.into_iter());
                }
            }
            if !p.denied_new.is_empty() {
                out.push_str("    new denied attempts:\n");
                list(
                    &mut out,
                    "      ! ",
                    p.denied_new
                        .iter()
                        .map(|x| format!("{} ({}x)", x.action, x.count)),
                );
            }
        }
    }
    out
}

// ---- leastpriv.diff/v1 ----

#[derive(Serialize)]
struct DiffV1<'a> {
    schema: &'static str,
    old: ReportV1<'a>,
    new: ReportV1<'a>,
    summary: SummaryV1,
    findings: FindingsV1<'a>,
    principals: PrincipalsV1<'a>,
}

#[derive(Serialize)]
struct ReportV1<'a> {
    path: String,
    generated_at: Option<&'a str>,
    /// `parquet` or `csv` when the input was an export rather than a report.
    #[serde(skip_serializing_if = "Option::is_none")]
    export: Option<&'static str>,
}

#[derive(Serialize)]
struct SummaryV1 {
    empty: bool,
    /// False when either input is an export, which carries no findings.
    findings_compared: bool,
    findings_new: usize,
    findings_resolved: usize,
    findings_changed: usize,
    principals_added: usize,
    principals_removed: usize,
    principals_changed: usize,
}

#[derive(Serialize)]
struct FindingsV1<'a> {
    new: Vec<FindingV1<'a>>,
    resolved: Vec<FindingV1<'a>>,
    changed: Vec<ChangeV1<'a>>,
}

#[derive(Serialize)]
struct FindingV1<'a> {
    rule: &'a str,
    severity: &'a str,
    principal: &'a str,
    actions: &'a [String],
    message: &'a str,
}

#[derive(Serialize)]
struct ChangeV1<'a> {
    rule: &'a str,
    principal: &'a str,
    severity_old: &'a str,
    severity_new: &'a str,
    actions_added: &'a [String],
    actions_removed: &'a [String],
    message: &'a str,
}

#[derive(Serialize)]
struct PrincipalsV1<'a> {
    added: Vec<PrincipalRefV1<'a>>,
    removed: Vec<PrincipalRefV1<'a>>,
    changed: Vec<PrincipalDriftV1<'a>>,
}

#[derive(Serialize)]
struct PrincipalRefV1<'a> {
    arn: &'a str,
    name: &'a str,
    granted: usize,
    used: usize,
}

#[derive(Serialize)]
struct PrincipalDriftV1<'a> {
    arn: &'a str,
    name: &'a str,
    granted_old: usize,
    granted_new: usize,
    grants_added: Vec<GrantV1<'a>>,
    grants_removed: Vec<GrantV1<'a>>,
    newly_used: Vec<MoveV1<'a>>,
    newly_unused: Vec<MoveV1<'a>>,
    newly_unobservable: Vec<MoveV1<'a>>,
    denied_new: Vec<DeniedV1<'a>>,
}

#[derive(Serialize)]
struct GrantV1<'a> {
    action: &'a str,
    status: &'static str,
}

#[derive(Serialize)]
struct MoveV1<'a> {
    action: &'a str,
    was: &'static str,
}

#[derive(Serialize)]
struct DeniedV1<'a> {
    action: &'a str,
    count: u64,
}

fn finding_v1(f: &FindingRef) -> FindingV1<'_> {
    FindingV1 {
        rule: &f.rule,
        severity: &f.severity,
        principal: &f.principal,
        actions: &f.actions,
        message: &f.message,
    }
}

fn principal_ref_v1(p: &PrincipalRef) -> PrincipalRefV1<'_> {
    PrincipalRefV1 {
        arn: &p.arn,
        name: &p.name,
        granted: p.granted,
        used: p.used,
    }
}

fn report_v1(r: &ReportRef) -> ReportV1<'_> {
    ReportV1 {
        path: r.path.display().to_string(),
        generated_at: r.generated_at.as_deref(),
        export: r.export,
    }
}

fn grants_v1(g: &[Grant]) -> Vec<GrantV1<'_>> {
    g.iter()
        .map(|g| GrantV1 {
            action: &g.action,
            status: g.status.as_str(),
        })
        .collect()
}

fn moves_v1(p: &PrincipalDrift, to: Status) -> Vec<MoveV1<'_>> {
    p.moved
        .iter()
        .filter(|m| m.to == to)
        .map(|m| MoveV1 {
            action: &m.action,
            was: m.from.as_str(),
        })
        .collect()
}

/// The drift as a `leastpriv.diff/v1` JSON document (pretty, newline-terminated).
pub fn render_json(d: &Drift) -> String {
    let doc = DiffV1 {
        schema: SCHEMA,
        old: report_v1(&d.old),
        new: report_v1(&d.new),
        summary: SummaryV1 {
            empty: d.is_empty(),
            findings_compared: d.findings_compared(),
            findings_new: d.findings_new.len(),
            findings_resolved: d.findings_resolved.len(),
            findings_changed: d.findings_changed.len(),
            principals_added: d.principals_added.len(),
            principals_removed: d.principals_removed.len(),
            principals_changed: d.principals_changed.len(),
        },
        findings: FindingsV1 {
            new: d.findings_new.iter().map(finding_v1).collect(),
            resolved: d.findings_resolved.iter().map(finding_v1).collect(),
            changed: d
                .findings_changed
                .iter()
                .map(|c| ChangeV1 {
                    rule: &c.rule,
                    principal: &c.principal,
                    severity_old: &c.severity_old,
                    severity_new: &c.severity_new,
                    actions_added: &c.actions_added,
                    actions_removed: &c.actions_removed,
                    message: &c.message,
                })
                .collect(),
        },
        principals: PrincipalsV1 {
            added: d.principals_added.iter().map(principal_ref_v1).collect(),
            removed: d.principals_removed.iter().map(principal_ref_v1).collect(),
            changed: d
                .principals_changed
                .iter()
                .map(|p| PrincipalDriftV1 {
                    arn: &p.arn,
                    name: &p.name,
                    granted_old: p.granted_old,
                    granted_new: p.granted_new,
                    grants_added: grants_v1(&p.grants_added),
                    grants_removed: grants_v1(&p.grants_removed),
                    newly_used: moves_v1(p, Status::Used),
                    newly_unused: moves_v1(p, Status::Unused),
                    newly_unobservable: moves_v1(p, Status::Unobservable),
                    denied_new: p
                        .denied_new
                        .iter()
                        .map(|x| DeniedV1 {
                            action: &x.action,
                            count: x.count,
                        })
                        .collect(),
                })
                .collect(),
        },
    };
    // Serializing plain data with string keys cannot fail.
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(all(test, feature = "parquet"))]
mod export_tests {
    #[test]
    fn the_export_key_column_is_the_frames_first() {
        assert_eq!(
            super::EXPORT_KEY_COLUMN,
            crate::report::frames::COLUMNS[0].as_bytes()
        );
    }
}

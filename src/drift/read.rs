//! Reading a `leastpriv.audit/v1` or `/v2` report, or a principal × action
//! export, into the few fields that drift needs: its own minimal
//! `Deserialize` types (fields may be added to v1, so unknown fields are
//! ignored), never the renderers' output types.

use super::{DriftError, INPUT_SCHEMA, INPUT_SCHEMA_V2};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

/// The first column of a principal × action export (`report::frames::COLUMNS`,
/// which exists only with the `parquet` feature; a test keeps them equal).
const EXPORT_KEY_COLUMN: &[u8] = b"principal_arn";

#[derive(Deserialize)]
struct HeadIn {
    schema: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct DocIn {
    #[serde(default)]
    pub(super) schema: Option<serde_json::Value>,
    #[serde(default)]
    pub(super) generated_at: Option<String>,
    pub(super) principals: Vec<PrincipalIn>,
    pub(super) findings: Vec<FindingIn>,
    /// v2: the actions of each service that a set names by `"*"` or `except`.
    #[serde(default)]
    pub(super) catalog_services: BTreeMap<String, Vec<String>>,
    /// Set for an export, which has no findings: `parquet` or `csv`.
    #[serde(skip)]
    pub(super) export: Option<&'static str>,
}

#[derive(Deserialize)]
pub(super) struct PrincipalIn {
    pub(super) arn: String,
    #[serde(default)]
    pub(super) name: String,
    pub(super) granted: usize,
    #[serde(default)]
    pub(super) used: Vec<UsedIn>,
    #[serde(default)]
    pub(super) unused: ActionsIn,
    #[serde(default)]
    pub(super) unobservable: ActionsIn,
    #[serde(default)]
    pub(super) denied: Vec<AttemptIn>,
    /// Reports since the one verdict: failed and attempted actions, each
    /// with its verdict (older reports listed them in `unused` too).
    #[serde(default)]
    pub(super) failed: Vec<AttemptIn>,
}

/// A v1 list of `service:Action` names, or a v2 set grouped by service.
/// Read by hand rather than as an untagged enum, which would first copy a
/// whole (possibly million-name) list to see which variant it is.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ActionsIn {
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
pub(super) enum FormIn {
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
}

#[derive(Deserialize, PartialEq, Eq)]
pub(super) struct UsedIn {
    pub(super) action: String,
    #[serde(default = "yes")]
    pub(super) granted: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, PartialEq, Eq)]
pub(super) struct AttemptIn {
    pub(super) action: String,
    #[serde(default)]
    pub(super) count: u64,
    #[serde(default)]
    pub(super) granted: bool,
    /// The action's verdict; absent in reports from before the one verdict.
    #[serde(default)]
    pub(super) verdict: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct FindingIn {
    pub(super) rule: String,
    pub(super) severity: String,
    pub(super) principal: String,
    #[serde(default)]
    pub(super) actions: Vec<String>,
    #[serde(default)]
    pub(super) message: String,
}

pub(super) fn read(path: &Path) -> Result<DocIn, DriftError> {
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
                failed: vec![],
            });
            granted.push(BTreeSet::new());
            lists.push(Default::default());
            principals.len() - 1
        });
        let p = &mut principals[at];
        // Exports since the one verdict have a `grant` column and one row
        // per action; older ones wrote a refused or failed action's
        // attempts as extra rows beside its used, unused or unobservable one.
        let one_verdict = r.grant.is_some();
        let attempt = |verdict: Option<&str>| AttemptIn {
            action: r.action.clone(),
            count: r.count,
            granted: r.granted,
            verdict: verdict.map(str::to_string),
        };
        match r.verdict.as_str() {
            "used" => p.used.push(UsedIn {
                action: r.action.clone(),
                granted: r.granted,
            }),
            "unused" => lists[at][0].push(r.action.clone()),
            "unobservable" => lists[at][1].push(r.action.clone()),
            "denied" if one_verdict => p.denied.push(attempt(Some("denied"))),
            "denied" => p.denied.push(attempt(None)),
            v @ ("used-failed" | "attempted") => p.failed.push(attempt(Some(v))),
            // An older export's failed call: neither use nor a refusal, and
            // its action has a row of its own.
            "failed" if !one_verdict => continue,
            other => {
                return Err(DriftError::Verdict {
                    path: path.to_path_buf(),
                    row: i + 1,
                    verdict: other.to_string(),
                })
            }
        }
        if r.granted
            && (matches!(r.verdict.as_str(), "used" | "unused" | "unobservable") || one_verdict)
        {
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

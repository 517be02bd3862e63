//! Could the trail have shown an action being used? Data from
//! `rules/observability.yaml` combined with what `trails.json` records.

use crate::catalog::{AccessLevel, ActionId, ActionSet, Catalog};
use crate::ingest::trails::TrailCoverage;
use serde::Deserialize;
use std::sync::Arc;

/// Why a granted action could not have been seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unobservable {
    /// CloudTrail never records it.
    NeverLogged(Arc<str>),
    /// A data event whose resource type (or these resources) the trails do not record.
    DataEventNotRecorded(Arc<str>),
    /// Management events of this side (read or write) are not recorded.
    ManagementNotRecorded(&'static str),
    /// The trails exclude this event source.
    SourceExcluded(Arc<str>),
}

impl Unobservable {
    pub fn describe(&self) -> String {
        match self {
            Unobservable::NeverLogged(why) => format!("never logged by CloudTrail: {why}"),
            Unobservable::DataEventNotRecorded(t) => {
                format!("data event `{t}` not recorded by the trails for the granted resources")
            }
            Unobservable::ManagementNotRecorded(side) => {
                format!("the trails do not record {side} management events")
            }
            Unobservable::SourceExcluded(s) => format!("the trails exclude event source `{s}`"),
        }
    }

    /// A stable short code for machine-readable outputs.
    pub fn code(&self) -> &'static str {
        match self {
            Unobservable::NeverLogged(_) => "never-logged",
            Unobservable::DataEventNotRecorded(_) => "data-event-not-recorded",
            Unobservable::ManagementNotRecorded(_) => "management-not-recorded",
            Unobservable::SourceExcluded(_) => "source-excluded",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    never_logged: Vec<NeverLogged>,
    data_events: Vec<DataEvents>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeverLogged {
    actions: Vec<String>,
    why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DataEvents {
    resource_type: String,
    actions: Vec<String>,
}

/// A bad `observability.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum ObservabilityError {
    #[error("`{file}`: {message}")]
    Yaml { file: String, message: String },
    #[error("`{file}`: pattern `{pattern}` names no catalog action")]
    UnknownAction { file: String, pattern: String },
}

/// Observability facts, resolved against the catalog.
pub struct Observability {
    /// Why each never-logged group is never logged (shared by every
    /// verdict that cites it: no string per principal and action).
    never: Vec<Arc<str>>,
    /// The resource type of each data-event group.
    data: Vec<Arc<str>>,
    /// Per catalog action, which group (if any) it belongs to: looked up for
    /// every unused action of every principal, so it is a table, not a scan.
    class: Vec<Class>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Logged,
    Never(u16),
    Data(u16),
}

pub const EMBEDDED: &str = include_str!("../../rules/observability.yaml");

impl Observability {
    pub fn embedded(cat: &Catalog) -> Result<Self, ObservabilityError> {
        Self::from_yaml(cat, "rules/observability.yaml", EMBEDDED)
    }

    pub fn from_yaml(cat: &Catalog, file: &str, text: &str) -> Result<Self, ObservabilityError> {
        let f: File = yaml_serde::from_str(text).map_err(|e| ObservabilityError::Yaml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let resolve = |pats: &[String]| -> Result<ActionSet, ObservabilityError> {
            cat.expand_all(pats)
                .map_err(|p| ObservabilityError::UnknownAction {
                    file: file.to_string(),
                    pattern: p.to_string(),
                })
        };
        let never: Vec<(ActionSet, String)> = f
            .never_logged
            .iter()
            .map(|n| Ok((resolve(&n.actions)?, n.why.clone())))
            .collect::<Result<_, _>>()?;
        let data: Vec<(ActionSet, String)> = f
            .data_events
            .iter()
            .map(|d| Ok((resolve(&d.actions)?, d.resource_type.clone())))
            .collect::<Result<_, _>>()?;
        // The first group that lists an action wins, never-logged before data.
        let class = cat
            .ids()
            .map(|id| {
                if let Some(i) = never.iter().position(|(s, _)| s.contains(id)) {
                    Class::Never(i as u16)
                } else if let Some(i) = data.iter().position(|(s, _)| s.contains(id)) {
                    Class::Data(i as u16)
                } else {
                    Class::Logged
                }
            })
            .collect();
        Ok(Observability {
            never: never.into_iter().map(|(_, why)| why.into()).collect(),
            data: data.into_iter().map(|(_, t)| t.into()).collect(),
            class,
        })
    }

    fn class(&self, id: ActionId) -> Class {
        self.class
            .get(id.0 as usize)
            .copied()
            .unwrap_or(Class::Logged)
    }

    /// The data event resource type of an action, if it is a data event.
    pub fn data_event_type(&self, id: ActionId) -> Option<&str> {
        match self.class(id) {
            Class::Data(i) => self.data.get(i as usize).map(|t| &**t),
            _ => None,
        }
    }

    /// The verdicts that do not depend on the principal (never logged, source
    /// excluded, management side not recorded), computed once per audit for
    /// the whole catalog; data events, which depend on the granted
    /// resources, are listed apart.
    pub fn fixed(&self, cat: &Catalog, cov: &TrailCoverage) -> FixedVerdicts {
        let mut unobservable = ActionSet::empty(cat);
        let mut data = ActionSet::empty(cat);
        let mut why = vec![None; cat.len()];
        for id in cat.ids() {
            if matches!(self.class(id), Class::Data(_)) {
                data.insert(id);
            } else if let Some(w) = self.unobservable(cat, cov, id, Vec::new) {
                unobservable.insert(id);
                why[id.0 as usize] = Some(w);
            }
        }
        FixedVerdicts {
            unobservable,
            data,
            why,
        }
    }

    /// Why `id`, granted on `resources` (policy patterns), could not have been
    /// seen; `None` when the trails would have recorded a use.
    pub fn unobservable(
        &self,
        cat: &Catalog,
        cov: &TrailCoverage,
        id: ActionId,
        resources: impl FnOnce() -> Vec<String>,
    ) -> Option<Unobservable> {
        if let Class::Never(i) = self.class(id) {
            let why = self.never.get(i as usize).cloned().unwrap_or_default();
            return Some(Unobservable::NeverLogged(why));
        }
        let action = cat.action(id);
        let read_only = action
            .access_levels
            .iter()
            .all(|l| matches!(l, AccessLevel::Read | AccessLevel::List));
        if let Class::Data(i) = self.class(id) {
            let kind = self.data.get(i as usize)?;
            let recorded = cov.records_data(kind, &resources(), read_only);
            return (!recorded).then(|| Unobservable::DataEventNotRecorded(kind.clone()));
        }
        if !cov.excluded_sources.is_empty() {
            let source = format!("{}.amazonaws.com", action.service);
            if cov.excluded_sources.iter().any(|s| s == &source) {
                return Some(Unobservable::SourceExcluded(source.into()));
            }
        }
        if read_only && !cov.management_read {
            return Some(Unobservable::ManagementNotRecorded("read"));
        }
        if !read_only && !cov.management_write {
            return Some(Unobservable::ManagementNotRecorded("write"));
        }
        None
    }
}

/// [`Observability::fixed`]: what holds for every principal of one audit.
pub struct FixedVerdicts {
    /// Actions never observable with these trails, whoever holds them.
    pub unobservable: ActionSet,
    /// Data-event actions: observable or not depending on the granted resources.
    pub data: ActionSet,
    why: Vec<Option<Unobservable>>,
}

impl FixedVerdicts {
    /// Why an action of `unobservable` is so.
    pub fn why(&self, id: ActionId) -> Option<&Unobservable> {
        self.why.get(id.0 as usize).and_then(Option::as_ref)
    }
}

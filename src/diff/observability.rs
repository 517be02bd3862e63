//! Could the trail have shown an action being used? Data from
//! `rules/observability.yaml` combined with what `trails.json` records.

use crate::catalog::{AccessLevel, ActionId, ActionSet, Catalog};
use crate::ingest::trails::TrailCoverage;
use serde::Deserialize;

/// Why a granted action could not have been seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unobservable {
    /// CloudTrail never records it.
    NeverLogged(String),
    /// A data event whose resource type (or these resources) the trails do not record.
    DataEventNotRecorded(String),
    /// Management events of this side (read or write) are not recorded.
    ManagementNotRecorded(&'static str),
    /// The trails exclude this event source.
    SourceExcluded(String),
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
    never: Vec<(ActionSet, String)>,
    data: Vec<(ActionSet, String)>,
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
        Ok(Observability {
            never: f
                .never_logged
                .iter()
                .map(|n| Ok((resolve(&n.actions)?, n.why.clone())))
                .collect::<Result<_, _>>()?,
            data: f
                .data_events
                .iter()
                .map(|d| Ok((resolve(&d.actions)?, d.resource_type.clone())))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The data event resource type of an action, if it is a data event.
    pub fn data_event_type(&self, id: ActionId) -> Option<&str> {
        self.data
            .iter()
            .find(|(s, _)| s.contains(id))
            .map(|(_, t)| t.as_str())
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
        if let Some((_, why)) = self.never.iter().find(|(s, _)| s.contains(id)) {
            return Some(Unobservable::NeverLogged(why.clone()));
        }
        let action = cat.action(id);
        let read_only = action
            .access_levels
            .iter()
            .all(|l| matches!(l, AccessLevel::Read | AccessLevel::List));
        if let Some(kind) = self.data_event_type(id) {
            let recorded = cov.records_data(kind, &resources(), read_only);
            return (!recorded).then(|| Unobservable::DataEventNotRecorded(kind.to_string()));
        }
        if !cov.excluded_sources.is_empty() {
            let source = format!("{}.amazonaws.com", action.service);
            if cov.excluded_sources.iter().any(|s| s == &source) {
                return Some(Unobservable::SourceExcluded(source));
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

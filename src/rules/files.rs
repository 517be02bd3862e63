//! The rule files: the shipped `rules/*.yaml`, embedded, each replaced by
//! the same-named file of `--rules DIR` when there is one (the CloudTrail
//! mapping files of DIR are added on top of the shipped ones instead, so a
//! local exception does not need a copy of the whole map). Unknown fields are
//! errors everywhere.
//!
//! `error-codes.yaml` is replaced like the others, and goes with the mapping
//! (`usage::mapping` carries it): both say what a record means.
//!
//! Loading them needs every stage that reads one (`usage::mapping`,
//! `verdict::observability`, and the classifier, risk data and guardrails
//! here), so they are loaded here rather than with the settings (`config`).

use super::classify::{Classifier, ClassifyError};
use super::guardrails::{GuardrailError, Guardrails};
use super::pipelines::{Pipelines, PipelinesError};
use super::risk::{Risk, RiskError};
use super::techniques::{TechniqueError, Techniques};
use crate::catalog::Catalog;
use crate::config::Settings;
use crate::usage::mapping::{EventMapper, MappingError};
use crate::verdict::observability::{Observability, ObservabilityError};
use std::path::{Path, PathBuf};

/// A rule file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(transparent)]
    Observability(#[from] ObservabilityError),
    #[error(transparent)]
    Classify(#[from] ClassifyError),
    #[error(transparent)]
    Risk(#[from] RiskError),
    #[error(transparent)]
    Guardrail(#[from] GuardrailError),
    #[error(transparent)]
    Pipelines(#[from] PipelinesError),
    #[error(transparent)]
    Channels(#[from] crate::usage::channel::ChannelError),
    #[error(transparent)]
    Technique(#[from] TechniqueError),
}

/// Every rule file, loaded and checked against the catalog.
pub struct RuleFiles {
    pub mapper: EventMapper,
    pub observability: Observability,
    pub classifier: Classifier,
    pub risk: Risk,
    pub guardrails: Guardrails,
    pub pipelines: Pipelines,
    pub techniques: Techniques,
}

fn local(dir: Option<&Path>, name: &str) -> Result<Option<(String, String)>, LoadError> {
    let Some(d) = dir else { return Ok(None) };
    let p = d.join(name);
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(|source| LoadError::Read {
        path: p.clone(),
        source,
    })?;
    Ok(Some((p.display().to_string(), text)))
}

impl RuleFiles {
    /// Loads the shipped rules, replaced by files of `dir` where present.
    pub fn load(
        cat: &'static Catalog,
        dir: Option<&Path>,
        settings: &Settings,
    ) -> Result<RuleFiles, LoadError> {
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(LoadError::Read {
                    path: d.to_path_buf(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "rules directory not found",
                    ),
                });
            }
        }
        let mut texts: Vec<(String, String)> = EventMapper::embedded_texts()
            .iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect();
        for extra in ["cloudtrail-sdk.yaml", "cloudtrail.yaml"] {
            texts.extend(local(dir, extra)?);
        }
        let refs: Vec<(&str, &str)> = texts
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        let mut mapper = EventMapper::from_yaml(cat, &refs)?;
        if let Some((n, t)) = local(dir, "channels.yaml")? {
            mapper.set_channels(crate::usage::channel::Channels::from_yaml(&n, &t)?);
        }
        if let Some((n, t)) = local(dir, "error-codes.yaml")? {
            let codes = crate::usage::error_codes::ErrorCodes::from_yaml(&n, &t)
                .map_err(MappingError::from)?;
            mapper = mapper.with_error_codes(codes);
        }
        let observability = match local(dir, "observability.yaml")? {
            Some((n, t)) => Observability::from_yaml(cat, &n, &t)?,
            None => Observability::embedded(cat)?,
        };
        let mut classifier = match local(dir, "classify.yaml")? {
            Some((n, t)) => Classifier::from_yaml(&n, &t)?,
            None => Classifier::embedded()?,
        };
        // Settings' overrides come first: user-supplied ARN patterns win.
        let mut overrides = settings.classify.overrides.clone();
        overrides.append(&mut classifier.overrides);
        classifier.overrides = overrides;
        let risk = match local(dir, "risk.yaml")? {
            Some((n, t)) => Risk::from_yaml(cat, &n, &t)?,
            None => Risk::embedded(cat)?,
        };
        let guardrails = match local(dir, "guardrails.yaml")? {
            Some((n, t)) => Guardrails::from_yaml(cat, &n, &t)?,
            None => Guardrails::embedded(cat)?,
        };
        let pipelines = match local(dir, "pipelines.yaml")? {
            Some((n, t)) => Pipelines::from_yaml(&n, &t)?,
            None => Pipelines::embedded()?,
        };
        let techniques = match local(dir, "privesc-techniques.yaml")? {
            Some((n, t)) => Techniques::from_yaml(cat, &n, &t)?,
            None => Techniques::embedded(cat)?,
        };
        Ok(RuleFiles {
            mapper,
            observability,
            classifier,
            risk,
            guardrails,
            pipelines,
            techniques,
        })
    }
}

//! Configuration: `leastpriv.yaml` and `--rules DIR`.
//!
//! The shipped rules (`rules/*.yaml`) are embedded. `--rules DIR` replaces a
//! shipped file by the same-named file in DIR (CloudTrail mapping files are
//! added on top of the shipped ones instead, so a local exception does not
//! need a copy of the whole map). `leastpriv.yaml` holds settings and
//! classification overrides. Unknown fields are errors everywhere.

use crate::catalog::Catalog;
use crate::rules::classify::{Classifier, ClassifyError, Override};
use crate::rules::guardrails::{GuardrailError, Guardrails};
use crate::rules::risk::{Risk, RiskError};
use crate::usage::mapping::{EventMapper, MappingError};
use crate::verdict::observability::{Observability, ObservabilityError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Settings from `leastpriv.yaml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// A principal with no activity for this many days is dormant.
    pub dormant_days: i64,
    /// Access keys and console passwords unused for longer are stale.
    pub credential_max_age_days: i64,
    /// Classification overrides: ARN patterns to kinds; they win over every other signal.
    pub classify: ClassifySettings,
    /// A directory of rule files that replace the shipped ones.
    pub rules: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifySettings {
    pub overrides: Vec<Override>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dormant_days: 90,
            credential_max_age_days: 90,
            classify: ClassifySettings::default(),
            rules: None,
        }
    }
}

/// A configuration or rules file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}`: {message}")]
    Yaml { path: PathBuf, message: String },
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
}

impl Settings {
    /// Reads a `leastpriv.yaml`.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut s: Settings = yaml_serde::from_str(&text).map_err(|e| ConfigError::Yaml {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        // A relative rules directory is relative to the config file.
        if let (Some(r), Some(dir)) = (&s.rules, path.parent()) {
            if r.is_relative() {
                s.rules = Some(dir.join(r));
            }
        }
        Ok(s)
    }
}

/// Every rule file, loaded and checked against the catalog.
pub struct RuleSet {
    pub mapper: EventMapper,
    pub observability: Observability,
    pub classifier: Classifier,
    pub risk: Risk,
    pub guardrails: Guardrails,
}

fn local(dir: Option<&Path>, name: &str) -> Result<Option<(String, String)>, ConfigError> {
    let Some(d) = dir else { return Ok(None) };
    let p = d.join(name);
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(|source| ConfigError::Read {
        path: p.clone(),
        source,
    })?;
    Ok(Some((p.display().to_string(), text)))
}

impl RuleSet {
    /// Loads the shipped rules, replaced by files of `dir` where present.
    pub fn load(
        cat: &'static Catalog,
        dir: Option<&Path>,
        settings: &Settings,
    ) -> Result<RuleSet, ConfigError> {
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(ConfigError::Read {
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
        let mapper = EventMapper::from_yaml(cat, &refs)?;
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
        Ok(RuleSet {
            mapper,
            observability,
            classifier,
            risk,
            guardrails,
        })
    }
}

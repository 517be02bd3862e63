//! Configuration: the settings of `leastpriv.yaml`.
//!
//! `leastpriv.yaml` holds settings and classification overrides; unknown
//! fields are errors. A leaf of settings: it imports only the model's
//! vocabulary. The rule files (`rules/*.yaml`, `--rules DIR`) are loaded by
//! `rules::files`.

use crate::model::Kind;
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
    /// Which principals deploy the account (`change-outside-pipeline`).
    pub pipeline: PipelineSettings,
    /// Principals (or some of their rules) left out of the findings on
    /// purpose; every report lists them with the reason.
    pub exclude: Vec<Exclusion>,
}

/// A principal whose ARN matches `principal` (IAM wildcards, case-sensitive)
/// has no findings of `rules` (all rules when empty); `reason` is shown in
/// every report.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub principal: String,
    #[serde(default)]
    pub rules: Vec<String>,
    pub reason: String,
}

/// `pipeline:` in `leastpriv.yaml`: the principals whose changes are the
/// reviewed pipeline's, not changes made outside it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSettings {
    /// ARN patterns (IAM wildcards) of principals that count as the pipeline.
    pub principals: Vec<String>,
    /// Roles trusted by the CI identity providers or deployment services of
    /// `rules/pipelines.yaml` count as the pipeline too (default: yes).
    pub ci_trusted: bool,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        PipelineSettings {
            principals: Vec::new(),
            ci_trusted: true,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifySettings {
    pub overrides: Vec<Override>,
}

/// A classification override: a principal whose ARN matches `arn` (IAM
/// wildcards) is of `kind`, whatever else it shows. In `leastpriv.yaml` and
/// in `classify.yaml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    pub arn: String,
    pub kind: Kind,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dormant_days: 90,
            credential_max_age_days: 90,
            classify: ClassifySettings::default(),
            rules: None,
            pipeline: PipelineSettings::default(),
            exclude: Vec::new(),
        }
    }
}

/// A configuration file that cannot be used.
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

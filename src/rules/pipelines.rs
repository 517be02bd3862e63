//! The pipeline (`rules/pipelines.yaml` and `leastpriv.yaml`'s `pipeline`
//! section): which principals deploy the account through reviewed code, so
//! that `change-outside-pipeline` can tell their changes from everyone
//! else's.

use crate::catalog::wildcard_match;
use crate::config::PipelineSettings;
use crate::model::Principal;
use serde::Deserialize;

pub const EMBEDDED: &str = include_str!("../../rules/pipelines.yaml");

/// CI providers and services whose trust makes a role the pipeline.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipelines {
    pub oidc_providers: Vec<String>,
    pub services: Vec<String>,
}

/// A bad `pipelines.yaml`.
#[derive(Debug, thiserror::Error)]
#[error("`{file}`: {message}")]
pub struct PipelinesError {
    pub file: String,
    pub message: String,
}

impl Pipelines {
    pub fn embedded() -> Result<Pipelines, PipelinesError> {
        Self::from_yaml("rules/pipelines.yaml", EMBEDDED)
    }

    pub fn from_yaml(file: &str, text: &str) -> Result<Pipelines, PipelinesError> {
        yaml_serde::from_str(text).map_err(|e| PipelinesError {
            file: file.to_string(),
            message: e.to_string(),
        })
    }

    /// Why `p` counts as the pipeline, or `None` when it does not.
    pub fn why(&self, settings: &PipelineSettings, p: &Principal) -> Option<String> {
        if let Some(pat) = settings
            .principals
            .iter()
            .find(|pat| wildcard_match(pat, &p.arn))
        {
            return Some(format!("`leastpriv.yaml` pipeline principal `{pat}`"));
        }
        if !settings.ci_trusted {
            return None;
        }
        let trusted = super::classify::trusted_principals(p.trust_policy.as_ref()?);
        if let Some(f) = trusted.federated.iter().find(|f| {
            f.split(":oidc-provider/")
                .nth(1)
                .is_some_and(|host| self.oidc_providers.iter().any(|o| wildcard_match(o, host)))
        }) {
            return Some(format!("trusted by the CI identity provider `{f}`"));
        }
        trusted
            .services
            .iter()
            .find(|s| self.services.iter().any(|x| wildcard_match(x, s)))
            .map(|s| format!("trusted by the deployment service `{s}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_pipelines_parse_and_unknown_fields_are_errors() {
        let p = Pipelines::embedded().unwrap();
        assert!(p.services.iter().any(|s| s == "codebuild.amazonaws.com"));
        let typo = EMBEDDED.replace("services:", "servics:");
        assert!(Pipelines::from_yaml("p.yaml", &typo)
            .unwrap_err()
            .to_string()
            .contains("p.yaml"));
    }
}

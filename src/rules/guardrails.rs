//! Guardrails (`rules/guardrails.yaml`): per kind of principal, the actions
//! that must be explicitly denied, and the Deny statement that closes a gap.

use crate::catalog::{ActionSet, Catalog};
use crate::model::Kind;
use crate::policy::arn_match::pattern_covers;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    kinds: BTreeMap<Kind, Vec<RawGuardrail>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuardrail {
    id: String,
    title: String,
    actions: Vec<String>,
    #[serde(default)]
    resources_except: Vec<String>,
}

/// One expected-deny guardrail.
#[derive(Clone, Debug)]
pub struct Guardrail {
    pub id: String,
    pub title: String,
    pub kind: Kind,
    pub patterns: Vec<String>,
    pub actions: ActionSet,
    /// Resources the guardrail leaves allowed (empty: all resources are denied).
    pub resources_except: Vec<String>,
    /// Built once and shared by every finding it closes (thousands at scale).
    deny: std::sync::OnceLock<std::sync::Arc<serde_json::Value>>,
}

impl Guardrail {
    /// Whether granted resource patterns reach outside what the guardrail allows.
    pub fn reaches_outside(&self, granted: &[String]) -> bool {
        if self.resources_except.is_empty() {
            return true;
        }
        granted.iter().any(|g| {
            g.starts_with("* except") || !self.resources_except.iter().any(|e| pattern_covers(e, g))
        })
    }

    /// The Deny statement that closes this guardrail, as policy JSON.
    pub fn deny_statement(&self) -> std::sync::Arc<serde_json::Value> {
        self.deny
            .get_or_init(|| std::sync::Arc::new(self.build_deny_statement()))
            .clone()
    }

    fn build_deny_statement(&self) -> serde_json::Value {
        let sid: String = std::iter::once("LeastprivGuardrail".to_string())
            .chain(self.id.split('-').map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                    None => String::new(),
                }
            }))
            .collect();
        let mut st = serde_json::json!({
            "Sid": sid,
            "Effect": "Deny",
            "Action": self.patterns,
        });
        if self.resources_except.is_empty() {
            st["Resource"] = serde_json::json!("*");
        } else {
            st["NotResource"] = serde_json::json!(self.resources_except);
        }
        st
    }
}

/// A bad `guardrails.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum GuardrailError {
    #[error("`{file}`: {message}")]
    Yaml { file: String, message: String },
    #[error("`{file}`: guardrail `{id}`: pattern `{pattern}` names no catalog action")]
    UnknownAction {
        file: String,
        id: String,
        pattern: String,
    },
}

pub const EMBEDDED: &str = include_str!("../../rules/guardrails.yaml");

/// All guardrails.
#[derive(Clone, Debug)]
pub struct Guardrails {
    pub all: Vec<Guardrail>,
}

impl Guardrails {
    pub fn embedded(cat: &Catalog) -> Result<Guardrails, GuardrailError> {
        Self::from_yaml(cat, "rules/guardrails.yaml", EMBEDDED)
    }

    pub fn from_yaml(cat: &Catalog, file: &str, text: &str) -> Result<Guardrails, GuardrailError> {
        let f: File = yaml_serde::from_str(text).map_err(|e| GuardrailError::Yaml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let mut all = Vec::new();
        for (kind, list) in f.kinds {
            for g in list {
                let set =
                    cat.expand_all(&g.actions)
                        .map_err(|p| GuardrailError::UnknownAction {
                            file: file.to_string(),
                            id: g.id.clone(),
                            pattern: p.to_string(),
                        })?;
                all.push(Guardrail {
                    id: g.id,
                    title: g.title,
                    kind,
                    patterns: g.actions,
                    actions: set,
                    resources_except: g.resources_except,
                    deny: std::sync::OnceLock::new(),
                });
            }
        }
        Ok(Guardrails { all })
    }

    pub fn for_kind(&self, kind: Kind) -> impl Iterator<Item = &Guardrail> {
        self.all.iter().filter(move |g| g.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_guardrails_resolve() {
        let g = Guardrails::embedded(Catalog::embedded()).unwrap();
        assert!(g.for_kind(Kind::Agent).count() >= 3);
        let s = g
            .all
            .iter()
            .find(|g| g.id == "agent-secrets-outside-path")
            .unwrap();
        assert!(s.reaches_outside(&["*".into()]));
        assert!(!s.reaches_outside(&["arn:aws:secretsmanager:*:*:secret:agents/x-*".into()]));
        assert_eq!(
            s.deny_statement()["NotResource"][0],
            "arn:aws:secretsmanager:*:*:secret:agents/*"
        );
        assert_eq!(
            s.deny_statement()["Sid"],
            "LeastprivGuardrailAgentSecretsOutsidePath"
        );
    }
}

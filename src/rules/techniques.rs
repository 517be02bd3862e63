//! Privilege-escalation techniques (`rules/privesc-techniques.yaml`): the
//! sets of actions that together let a principal act with more than it was
//! given, each with a name a reviewer can act on and the public write-ups
//! that document it. The `privilege-escalation` rule names the techniques a
//! principal holds; this module only loads the table and matches action sets.

use crate::catalog::{ActionId, Catalog};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const EMBEDDED: &str = include_str!("../../rules/privesc-techniques.yaml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema: u32,
    sources: BTreeMap<String, RawSource>,
    condition_kinds: BTreeMap<String, String>,
    techniques: Vec<RawTechnique>,
    #[serde(default)]
    excluded: Vec<Excluded>,
    #[serde(default)]
    not_in_catalog: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    short: String,
    title: String,
    url: String,
    license: String,
}

/// Actions deliberately not listed as techniques, with the reason (kept in
/// the file for reviewers; read so a typo in it is an error too).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Excluded {
    action: String,
    why: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTechnique {
    id: String,
    name: String,
    category: String,
    requires: Requires,
    #[serde(default)]
    conditions: Vec<RawCondition>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    refs: BTreeMap<String, Refs>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Requires {
    #[serde(default)]
    all_of: Vec<String>,
    #[serde(default)]
    any_of: Vec<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCondition {
    Kind(String),
    WithValue(BTreeMap<String, String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Refs {
    One(Ref),
    Many(Vec<Ref>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Ref {
    Number(u64),
    Text(String),
}

impl Ref {
    fn text(&self) -> String {
        match self {
            Ref::Number(n) => format!("#{n}"),
            Ref::Text(t) => t.clone(),
        }
    }
}

/// Where a technique is documented.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRef {
    /// A short name for evidence lines, e.g. `pathfinding.cloud`.
    pub short: String,
    /// The source's title, e.g. `pathfinding.cloud (Datadog), path`.
    pub title: String,
    pub url: String,
    /// The source's own identifiers of the technique (`lambda-001`, `#15`).
    pub ids: Vec<String>,
}

/// One technique, its actions resolved against the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub category: String,
    pub all_of: Vec<ActionId>,
    pub any_of: Vec<Vec<ActionId>>,
    /// What the account must also hold, in words (not checked).
    pub needs: Vec<String>,
    /// The service a role must trust (`role-trusts-service`): the service
    /// `iam:PassRole` passes the role to.
    pub passed_to: Option<String>,
    pub notes: Option<String>,
    pub sources: Vec<SourceRef>,
}

impl Technique {
    /// Whether every requirement is met by actions `has` accepts.
    pub fn held_by(&self, has: impl Fn(ActionId) -> bool) -> bool {
        self.all_of.iter().all(|&id| has(id))
            && self.any_of.iter().all(|g| g.iter().any(|&id| has(id)))
    }

    /// The actions that take part, for a principal that holds the technique.
    pub fn actions(&self, has: impl Fn(ActionId) -> bool) -> Vec<ActionId> {
        let mut v: Vec<ActionId> = self.all_of.clone();
        for g in &self.any_of {
            v.extend(g.iter().copied().filter(|&id| has(id)));
        }
        v
    }

    /// `Rhino Security Labs method #15, pathfinding.cloud lambda-001`: the
    /// first `n` sources by short name.
    pub fn cited(&self, n: usize) -> String {
        let mut s: Vec<String> = self
            .sources
            .iter()
            .take(n)
            .map(|s| format!("{} {}", s.short, s.ids.join(", ")))
            .collect();
        if self.sources.len() > n {
            s.push(format!("{} more", self.sources.len() - n));
        }
        s.join(", ")
    }
}

/// The technique table.
#[derive(Clone, Debug, Default)]
pub struct Techniques {
    pub techniques: Vec<Arc<Technique>>,
}

/// A bad technique file.
#[derive(Debug, thiserror::Error)]
pub enum TechniqueError {
    #[error("`{file}`: {message}")]
    Yaml { file: String, message: String },
    #[error("`{file}`: technique `{technique}`: {message}")]
    Technique {
        file: String,
        technique: String,
        message: String,
    },
}

impl Techniques {
    pub fn embedded(cat: &Catalog) -> Result<Techniques, TechniqueError> {
        Self::from_yaml(cat, "rules/privesc-techniques.yaml", EMBEDDED)
    }

    pub fn from_yaml(cat: &Catalog, file: &str, text: &str) -> Result<Techniques, TechniqueError> {
        let f: File = yaml_serde::from_str(text).map_err(|e| TechniqueError::Yaml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        if f.schema != 1 {
            return Err(TechniqueError::Yaml {
                file: file.to_string(),
                message: format!("`schema: {}` is not 1", f.schema),
            });
        }
        let _ = (&f.excluded, &f.not_in_catalog);
        // The sources' order in the file: the YAML map is read unordered.
        let order: Vec<&String> = {
            let mut keys: Vec<(usize, &String)> = f
                .sources
                .keys()
                .map(|k| (text.find(&format!("\n  {k}:\n")).unwrap_or(usize::MAX), k))
                .collect();
            keys.sort();
            keys.into_iter().map(|(_, k)| k).collect()
        };
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for t in f.techniques {
            let err = |message: String| TechniqueError::Technique {
                file: file.to_string(),
                technique: t.id.clone(),
                message,
            };
            if !seen.insert(t.id.clone()) {
                return Err(err("the id is used twice".into()));
            }
            let look = |name: &String| {
                if name.contains(['*', '?']) {
                    return Err(err(format!("`{name}`: exact action names only")));
                }
                cat.lookup(name)
                    .ok_or_else(|| err(format!("`{name}` names no catalog action")))
            };
            let all_of = t
                .requires
                .all_of
                .iter()
                .map(look)
                .collect::<Result<Vec<_>, _>>()?;
            let any_of = t
                .requires
                .any_of
                .iter()
                .map(|g| g.iter().map(look).collect::<Result<Vec<_>, _>>())
                .collect::<Result<Vec<_>, _>>()?;
            if all_of.is_empty() && any_of.is_empty() {
                return Err(err("`requires` lists no action".into()));
            }
            // A lone read can never be escalation: each technique needs a write.
            let writes = |id: &ActionId| {
                use crate::catalog::AccessLevel::*;
                cat.action(*id)
                    .access_levels
                    .iter()
                    .any(|l| matches!(l, Write | PermissionsManagement | Tagging))
            };
            if !all_of.iter().any(writes) && !any_of.iter().any(|g| g.iter().all(writes)) {
                return Err(err(
                    "it needs no Write or Permissions-management action".into()
                ));
            }
            let mut needs = Vec::new();
            let mut passed_to = None;
            for c in &t.conditions {
                let (kind, value) = match c {
                    RawCondition::Kind(k) => (k.clone(), None),
                    RawCondition::WithValue(m) => match m.iter().next() {
                        Some((k, v)) if m.len() == 1 => (k.clone(), Some(v.clone())),
                        _ => return Err(err("a condition is `kind` or `{kind: value}`".into())),
                    },
                };
                if kind == "role-trusts-service" {
                    passed_to.clone_from(&value);
                }
                let text = f.condition_kinds.get(&kind).ok_or_else(|| {
                    err(format!("condition `{kind}` is not in `condition_kinds`"))
                })?;
                // `(value = ...)` explains the table; the value follows.
                let text = text.split(" (value = ").next().unwrap_or(text);
                needs.push(match value {
                    Some(v) => format!("{text}: {v}"),
                    None => text.to_string(),
                });
            }
            let mut sources = Vec::new();
            for (key, refs) in &t.refs {
                let s = f
                    .sources
                    .get(key)
                    .ok_or_else(|| err(format!("source `{key}` is not in `sources`")))?;
                let ids = match refs {
                    Refs::One(r) => vec![r.text()],
                    Refs::Many(v) => v.iter().map(Ref::text).collect(),
                };
                let _ = &s.license;
                sources.push(SourceRef {
                    short: s.short.clone(),
                    title: s.title.clone(),
                    url: s.url.clone(),
                    ids,
                });
            }
            // Most cited first, as the sources table is ordered.
            sources.sort_by_key(|s| order.iter().position(|k| f.sources[*k].title == s.title));
            out.push(Arc::new(Technique {
                id: t.id,
                name: t.name,
                category: t.category,
                all_of,
                any_of,
                needs,
                passed_to,
                notes: t.notes,
                sources,
            }));
        }
        Ok(Techniques { techniques: out })
    }

    /// The techniques whose actions `has` accepts, in the file's order.
    pub fn held(&self, has: impl Fn(ActionId) -> bool + Copy) -> Vec<Arc<Technique>> {
        self.techniques
            .iter()
            .filter(|t| t.held_by(has))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_techniques_resolve_and_cite_their_sources() {
        let cat = Catalog::embedded();
        let t = Techniques::embedded(cat).unwrap();
        assert!(t.techniques.len() > 50, "{}", t.techniques.len());
        let lambda = t
            .techniques
            .iter()
            .find(|t| t.id == "passrole-lambda-create-invoke")
            .unwrap();
        assert_eq!(
            lambda.name,
            "Pass an existing role to a new Lambda function and invoke it"
        );
        assert_eq!(
            lambda.cited(2),
            "Rhino Security Labs method #15, pathfinding.cloud lambda-001, 3 more"
        );
        // Every technique has at least one source, except those the file
        // marks as our own reasoning.
        for t in &t.techniques {
            assert!(
                !t.sources.is_empty() || t.id == "iam-remove-permissions-boundary",
                "{}",
                t.id
            );
        }
    }

    #[test]
    fn held_needs_every_group() {
        let cat = Catalog::embedded();
        let t = Techniques::embedded(cat).unwrap();
        let ids = |names: &[&str]| -> Vec<ActionId> {
            names.iter().map(|n| cat.lookup(n).unwrap()).collect()
        };
        let has = ids(&["iam:PassRole", "lambda:CreateFunction"]);
        let held = t.held(|id| has.contains(&id));
        assert!(held.iter().all(|t| t.id != "passrole-lambda-create-invoke"));
        let has = ids(&[
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
        ]);
        let held = t.held(|id| has.contains(&id));
        assert!(held.iter().any(|t| t.id == "passrole-lambda-create-invoke"));
    }

    #[test]
    fn unknown_action_and_read_only_technique_are_refused() {
        let cat = Catalog::embedded();
        let text = EMBEDDED.replace("lambda:InvokeFunction]", "lambda:InvokeFunctio]");
        let e = Techniques::from_yaml(cat, "t.yaml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.yaml") && e.contains("InvokeFunctio"), "{e}");
        let text = EMBEDDED.replace(
            "requires: {all_of: [iam:CreatePolicyVersion]}",
            "requires: {all_of: [iam:ListPolicies]}",
        );
        let e = Techniques::from_yaml(cat, "t.yaml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("iam-create-policy-version") && e.contains("Write"),
            "{e}"
        );
    }
}

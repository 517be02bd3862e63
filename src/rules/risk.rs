//! Risk data (`rules/risk.yaml`): action categories, secrets first, and the
//! score that orders findings.

use crate::catalog::{AccessLevel, ActionId, ActionSet, Catalog};
use crate::model::Kind;
use crate::rules::Severity;
use crate::verdict::Verdict;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    categories: Vec<RawCategory>,
    passrole_compute: Vec<ComputeEntry>,
    /// Actions that return public material (certificates, CSRs, public
    /// keys): no category that reads secrets or mints credentials may list
    /// them.
    #[serde(default)]
    public_artifacts: Vec<String>,
    scoring: Scoring,
}

/// A `passrole_compute` entry: the action, or the action with the
/// `iam:PassedToService` value its service asks IAM for.
#[derive(Deserialize)]
#[serde(untagged)]
enum ComputeEntry {
    Action(String),
    Passing { action: String, passed_to: String },
}

impl ComputeEntry {
    fn action(&self) -> &str {
        match self {
            ComputeEntry::Action(a) | ComputeEntry::Passing { action: a, .. } => a,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    id: String,
    title: String,
    weight: f64,
    rationale: String,
    /// Catalog access levels an action needs (one of) to join the category;
    /// absent = every level.
    #[serde(default)]
    access_levels: Option<Vec<String>>,
    actions: Vec<String>,
}

/// Categories that must never hold a public artifact.
const SECRET_CATEGORIES: &[&str] = &["secrets-access", "credential-minting"];

/// Multipliers and thresholds of the score.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    pub verdict: VerdictWeights,
    pub breadth: BreadthWeights,
    pub kind: KindWeights,
    pub exposure: ExposureWeights,
    pub severity: Thresholds,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictWeights {
    pub unused: f64,
    pub unobservable: f64,
    pub used: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreadthWeights {
    pub all: f64,
    pub wildcard: f64,
    pub specific: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindWeights {
    pub agent: f64,
    pub npe: f64,
    pub human: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposureWeights {
    pub long_lived_keys: f64,
    pub external_trust: f64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub critical: f64,
    pub high: f64,
    pub medium: f64,
    pub low: f64,
}

/// One risk category with its actions resolved against the catalog.
#[derive(Clone, Debug)]
pub struct Category {
    pub id: String,
    pub title: String,
    pub weight: f64,
    pub rationale: String,
    pub actions: ActionSet,
    /// The access levels the category is limited to, if it is.
    pub access_levels: Option<Vec<AccessLevel>>,
}

/// How widely a grant reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Breadth {
    Specific,
    Wildcard,
    All,
}

impl Breadth {
    /// From the granted resource patterns of one action.
    /// A pattern scoped by a session variable (`${aws:SourceIdentity}`,
    /// `${aws:PrincipalTag/...}`, `${aws:username}`) names one principal's or
    /// end user's resources at a time: specific, whatever its wildcards.
    pub fn of(resources: &[String]) -> Breadth {
        let open: Vec<&String> = resources.iter().filter(|r| !r.contains("${aws:")).collect();
        if open.iter().any(|r| *r == "*" || r.starts_with("* except")) {
            Breadth::All
        } else if open.iter().any(|r| r.contains('*') || r.contains('?')) {
            Breadth::Wildcard
        } else {
            Breadth::Specific
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Breadth::All => "all resources",
            Breadth::Wildcard => "a wildcard",
            Breadth::Specific => "named resources",
        }
    }
}

/// The risk data.
#[derive(Clone, Debug)]
pub struct Risk {
    pub categories: Vec<Category>,
    pub passrole_compute: ActionSet,
    /// Of `passrole_compute`, the service each passes the role to (the
    /// `iam:PassedToService` value), where the rules name it.
    pub passrole_compute_services: std::collections::BTreeMap<ActionId, String>,
    /// `iam:PassRole`, looked up once rather than per principal.
    pub passrole: Option<ActionId>,
    pub scoring: Scoring,
    /// Per catalog action: its category's weight, or a small weight from its
    /// access levels when it has no category. Computed once: ranking looks it
    /// up for every unused action of every principal.
    weights: Vec<u32>,
    /// Every catalog action, riskiest first (ties by name): the top k of a
    /// set are the first k of this order that are in the set.
    by_risk: Vec<ActionId>,
}

/// A bad `risk.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    #[error("`{file}`: {message}")]
    Yaml { file: String, message: String },
    #[error("`{file}`: category `{category}`: pattern `{pattern}` names no catalog action")]
    UnknownAction {
        file: String,
        category: String,
        pattern: String,
    },
    #[error("`{file}`: category `{category}`: `{message}`")]
    Category {
        file: String,
        category: String,
        message: String,
    },
}

/// An access level as the Service Authorization Reference spells it.
fn access_level(s: &str) -> Option<AccessLevel> {
    use AccessLevel::*;
    [List, Read, Write, PermissionsManagement, Tagging]
        .into_iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(s))
}

pub const EMBEDDED: &str = include_str!("../../rules/risk.yaml");

impl Risk {
    pub fn embedded(cat: &Catalog) -> Result<Risk, RiskError> {
        Self::from_yaml(cat, "rules/risk.yaml", EMBEDDED)
    }

    pub fn from_yaml(cat: &Catalog, file: &str, text: &str) -> Result<Risk, RiskError> {
        let f: File = yaml_serde::from_str(text).map_err(|e| RiskError::Yaml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let resolve = |category: &str, pats: &[String]| -> Result<ActionSet, RiskError> {
            cat.expand_all(pats).map_err(|p| RiskError::UnknownAction {
                file: file.to_string(),
                category: category.to_string(),
                pattern: p.to_string(),
            })
        };
        let public = resolve("public_artifacts", &f.public_artifacts)?;
        let bad = |category: &str, message: String| RiskError::Category {
            file: file.to_string(),
            category: category.to_string(),
            message,
        };
        // An action belongs to the first category that lists it.
        let mut taken = ActionSet::empty(cat);
        let mut categories = Vec::new();
        for c in f.categories {
            let mut set = resolve(&c.id, &c.actions)?;
            let levels = match &c.access_levels {
                None => None,
                Some(names) => Some(
                    names
                        .iter()
                        .map(|n| {
                            access_level(n).ok_or_else(|| {
                                bad(&c.id, format!("access level `{n}` is not one of List, Read, Write, Permissions management, Tagging"))
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            };
            if let Some(levels) = &levels {
                // A listed action (no wildcard) that its own filter removes
                // is a mistake in the data, not something to drop silently.
                for p in c.actions.iter().filter(|p| !p.contains(['*', '?'])) {
                    if let Some(id) = cat.lookup(p) {
                        if !cat
                            .action(id)
                            .access_levels
                            .iter()
                            .any(|l| levels.contains(l))
                        {
                            return Err(bad(
                                &c.id,
                                format!("`{p}` is not at one of the category's access levels"),
                            ));
                        }
                    }
                }
                let drop: Vec<ActionId> = set
                    .iter()
                    .filter(|&id| {
                        !cat.action(id)
                            .access_levels
                            .iter()
                            .any(|l| levels.contains(l))
                    })
                    .collect();
                for id in drop {
                    set.remove(id);
                }
            }
            if SECRET_CATEGORIES.contains(&c.id.as_str()) && set.intersects(&public) {
                let names: Vec<String> =
                    set.iter_and(&public).map(|id| cat.full_name(id)).collect();
                return Err(bad(
                    &c.id,
                    format!(
                        "{} return public material (`public_artifacts`), not secrets",
                        names.join(", ")
                    ),
                ));
            }
            set.subtract(&taken);
            taken.union_with(&set);
            categories.push(Category {
                id: c.id,
                title: c.title,
                weight: c.weight,
                rationale: c.rationale,
                actions: set,
                access_levels: levels,
            });
        }
        let weights = cat
            .ids()
            .map(
                |id| match categories.iter().find(|c| c.actions.contains(id)) {
                    Some(c) => c.weight as u32,
                    None => access_weight(cat, id),
                },
            )
            .collect::<Vec<u32>>();
        let mut by_risk: Vec<ActionId> = cat.ids().collect();
        by_risk.sort_by_key(|id| {
            (
                std::cmp::Reverse(weights.get(id.0 as usize).copied().unwrap_or(0)),
                *id,
            )
        });
        let compute: Vec<String> = f
            .passrole_compute
            .iter()
            .map(|e| e.action().to_string())
            .collect();
        let mut passrole_compute_services = std::collections::BTreeMap::new();
        for e in &f.passrole_compute {
            if let ComputeEntry::Passing { action, passed_to } = e {
                for id in resolve("passrole_compute", std::slice::from_ref(action))?.iter() {
                    passrole_compute_services.insert(id, passed_to.clone());
                }
            }
        }
        Ok(Risk {
            categories,
            passrole_compute: resolve("passrole_compute", &compute)?,
            passrole_compute_services,
            passrole: cat.lookup("iam:PassRole"),
            scoring: f.scoring,
            weights,
            by_risk,
        })
    }

    /// How much harm an action can do, for ranking.
    pub fn weight(&self, id: ActionId) -> u32 {
        self.weights.get(id.0 as usize).copied().unwrap_or(0)
    }

    /// The `k` riskiest actions of a set, riskiest first (ties by name): a
    /// walk down the catalog's risk order that stops after `k`.
    pub fn riskiest_in(&self, set: crate::verdict::Unused, k: usize) -> Vec<ActionId> {
        // The walk looks at actions until it has `k` of the set, so for a
        // set much smaller than the catalog it looks at all 22,000, per
        // principal, for the rules and again for the table: a third of a
        // 10,000-principal audit. Such a set is ranked on its own (same
        // order: weight, then id).
        if set.len().saturating_mul(4) < self.by_risk.len() {
            let ids: Vec<ActionId> = set.iter().collect();
            return self.riskiest(&ids, k);
        }
        self.riskiest_walk(|id| set.contains(id), k)
    }

    /// [`Risk::riskiest`] of the `len` actions in `set`: a large set is
    /// walked down the risk order (stopping after `k`) rather than ranked,
    /// which for tens of thousands of actions was a partial sort per
    /// recommendation.
    pub fn riskiest_in_set(&self, set: &ActionSet, ids: &[ActionId], k: usize) -> Vec<ActionId> {
        if ids.len().saturating_mul(4) < self.by_risk.len() {
            return self.riskiest(ids, k);
        }
        self.riskiest_walk(|id| set.contains(id), k)
    }

    fn riskiest_walk(&self, contains: impl Fn(ActionId) -> bool, k: usize) -> Vec<ActionId> {
        self.by_risk
            .iter()
            .copied()
            .filter(|id| contains(*id))
            .take(k)
            .collect()
    }

    /// The `k` riskiest of `ids`, riskiest first (ties by name), without
    /// sorting all of them.
    pub fn riskiest(&self, ids: &[ActionId], k: usize) -> Vec<ActionId> {
        let key = |id: &ActionId| (std::cmp::Reverse(self.weight(*id)), *id);
        let mut v = ids.to_vec();
        if k < v.len() {
            v.select_nth_unstable_by_key(k, key);
            v.truncate(k);
        }
        v.sort_unstable_by_key(key);
        v
    }

    pub fn category(&self, id: ActionId) -> Option<&Category> {
        self.categories.iter().find(|c| c.actions.contains(id))
    }

    pub fn category_by_id(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// The score of one grant. The verdict weighs as `scoring.verdict`
    /// says: a use (or an authorized failure, or an attempt, which nothing
    /// proves unneeded) as used; a grant that is refused anyway, or unused,
    /// as unused; unobservable as unobservable.
    pub fn score(
        &self,
        weight: f64,
        verdict: &Verdict,
        breadth: Breadth,
        kind: Kind,
        exposure: f64,
    ) -> f64 {
        let s = &self.scoring;
        let v = match verdict {
            // A broad grant used on a few resources is mostly removable.
            Verdict::Used | Verdict::UsedFailed | Verdict::Attempted
                if breadth != Breadth::Specific =>
            {
                (s.verdict.used + s.verdict.unused) / 2.0
            }
            Verdict::Used | Verdict::UsedFailed | Verdict::Attempted => s.verdict.used,
            Verdict::Unused | Verdict::Denied(_) | Verdict::NotGranted => s.verdict.unused,
            Verdict::Unobservable(_) => s.verdict.unobservable,
        };
        let b = match breadth {
            Breadth::All => s.breadth.all,
            Breadth::Wildcard => s.breadth.wildcard,
            Breadth::Specific => s.breadth.specific,
        };
        let k = match kind {
            Kind::Agent => s.kind.agent,
            Kind::Npe => s.kind.npe,
            Kind::Human => s.kind.human,
        };
        weight * v * b * k * exposure
    }

    /// The severity a score earns.
    pub fn severity(&self, score: f64) -> Severity {
        let t = &self.scoring.severity;
        if score >= t.critical {
            Severity::Critical
        } else if score >= t.high {
            Severity::High
        } else if score >= t.medium {
            Severity::Medium
        } else if score >= t.low {
            Severity::Low
        } else {
            Severity::Info
        }
    }
}

/// A weight from access levels, below every risk category.
fn access_weight(cat: &Catalog, id: ActionId) -> u32 {
    use crate::catalog::AccessLevel::*;
    cat.action(id)
        .access_levels
        .iter()
        .map(|l| match l {
            PermissionsManagement => 35,
            Write => 25,
            Read => 15,
            Tagging => 10,
            List => 5,
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_risk_resolves_and_secrets_come_first() {
        let cat = Catalog::embedded();
        let r = Risk::embedded(cat).unwrap();
        assert_eq!(r.categories[0].id, "secrets-access");
        let gsv = cat.lookup("secretsmanager:GetSecretValue").unwrap();
        assert_eq!(r.category(gsv).unwrap().id, "secrets-access");
        let pr = cat.lookup("iam:PassRole").unwrap();
        assert_eq!(r.category(pr).unwrap().id, "privilege-escalation");
    }

    #[test]
    fn agent_reading_every_secret_unused_is_critical() {
        let r = Risk::embedded(Catalog::embedded()).unwrap();
        let s = r.score(100.0, &Verdict::Unused, Breadth::All, Kind::Agent, 1.0);
        assert_eq!(r.severity(s), Severity::Critical);
        let s = r.score(100.0, &Verdict::Used, Breadth::Specific, Kind::Human, 1.0);
        assert!(r.severity(s) <= Severity::Low);
    }

    #[test]
    fn riskiest_ranks_secrets_first_and_takes_k() {
        let cat = Catalog::embedded();
        let r = Risk::embedded(cat).unwrap();
        let ids: Vec<ActionId> = [
            "s3:ListAllMyBuckets",
            "secretsmanager:GetSecretValue",
            "iam:PassRole",
            "ec2:DescribeVpcs",
        ]
        .iter()
        .map(|a| cat.lookup(a).unwrap())
        .collect();
        let top = r.riskiest(&ids, 2);
        assert_eq!(top, vec![ids[1], ids[2]]);
        assert_eq!(r.riskiest(&ids, 10).len(), 4);
    }

    /// Both ways of ranking a set agree, for sets small and large, with and
    /// without used actions taken out.
    #[test]
    fn riskiest_in_agrees_with_the_walk_down_the_risk_order() {
        use crate::catalog::ActionSet;
        let cat = Catalog::embedded();
        let r = Risk::embedded(cat).unwrap();
        let used_ids = [
            "secretsmanager:GetSecretValue",
            "s3:GetObject",
            "iam:PassRole",
        ];
        let used: Vec<crate::verdict::Decided> = {
            let mut ids: Vec<ActionId> = used_ids.iter().map(|a| cat.lookup(a).unwrap()).collect();
            ids.sort();
            ids.into_iter()
                .map(|action| crate::verdict::Decided {
                    action,
                    verdict: Verdict::Used,
                })
                .collect()
        };
        for pattern in [
            "s3:Get*",
            "*:Get*",
            "secretsmanager:*",
            "iam:*",
            "*",
            "ec2:Describe*",
        ] {
            let set: ActionSet = cat.expand(pattern);
            for used in [&used[..], &[]] {
                let unused = crate::verdict::Unused::of(&set, used);
                // Counted by service, as the v2 report's pass does.
                for svc in cat.services() {
                    assert_eq!(
                        unused.count_in(svc.actions.clone()),
                        unused
                            .iter()
                            .filter(|id| svc.actions.contains(&id.0))
                            .count(),
                        "{pattern}, {}",
                        svc.prefix
                    );
                }
                for k in [0, 1, 5, 30, 100_000] {
                    assert_eq!(
                        r.riskiest_in(unused, k),
                        r.riskiest_walk(|id| unused.contains(id), k),
                        "{pattern}, k {k}, {} used",
                        used.len()
                    );
                    // The same actions as a set and a list, ranked either way.
                    let ids: Vec<ActionId> = unused.iter().collect();
                    let mut as_set = ActionSet::empty(cat);
                    as_set.extend(ids.iter().copied());
                    assert_eq!(
                        r.riskiest_in_set(&as_set, &ids, k),
                        r.riskiest(&ids, k),
                        "{pattern}, k {k}"
                    );
                }
            }
        }
    }

    /// `organizations:*` brings its writes to escalation, never its
    /// `Describe*`/`List*` (they join no category); a read listed there by
    /// name, or a public artifact listed as a secret, is refused.
    #[test]
    fn escalation_holds_no_read_only_action_and_secrets_no_public_artifact() {
        let cat = Catalog::embedded();
        let r = Risk::embedded(cat).unwrap();
        let pe = r.category_by_id("privilege-escalation").unwrap();
        let org = cat.expand("organizations:*");
        let reads = org
            .iter()
            .filter(|&id| {
                cat.action(id)
                    .access_levels
                    .iter()
                    .all(|l| matches!(l, AccessLevel::List | AccessLevel::Read))
            })
            .count();
        assert!(reads > 10, "{reads}");
        for id in org.iter() {
            let read_only = cat
                .action(id)
                .access_levels
                .iter()
                .all(|l| matches!(l, AccessLevel::List | AccessLevel::Read));
            assert_eq!(pe.actions.contains(id), !read_only, "{}", cat.full_name(id));
        }
        let csr = cat.lookup("acm-pca:GetCertificateAuthorityCsr").unwrap();
        assert!(r.category(csr).is_none());

        let text = EMBEDDED.replace(
            "      - organizations:*",
            "      - organizations:*\n      - organizations:ListAccounts",
        );
        let e = Risk::from_yaml(cat, "r.yaml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("privilege-escalation") && e.contains("organizations:ListAccounts"),
            "{e}"
        );
        let text = EMBEDDED.replace(
            "      - acm:ExportCertificate",
            "      - acm:ExportCertificate\n      - kms:GetPublicKey",
        );
        let e = Risk::from_yaml(cat, "r.yaml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("secrets-access") && e.contains("kms:GetPublicKey"),
            "{e}"
        );
    }

    #[test]
    fn bad_pattern_is_named() {
        let text = EMBEDDED.replace(
            "secretsmanager:GetSecretValue",
            "secretsmanager:GetSecretValu",
        );
        let e = Risk::from_yaml(Catalog::embedded(), "r.yaml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("r.yaml") && e.contains("GetSecretValu"), "{e}");
    }
}

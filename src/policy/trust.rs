//! Who can assume each role: the role's trust policy (who it names, under
//! which conditions) together with the callers' own `sts:AssumeRole`
//! grants and the SCPs of their account, decided as `access::decide`
//! decides any request on a role (the trust policy must allow; trusting the
//! account lets the callers' identity policies decide).
//!
//! The graph has an edge from each principal of the snapshot to each role it
//! can assume, and lists for every role the principals outside the snapshot
//! its trust names (other accounts, services, identity providers, `*`).
//! Chains of edges are what `privilege-escalation` follows.

use super::access::{decide, names, AccessRequest, IdentityInput, Named, ResourcePolicyInput};
use super::caller::{Caller, CallerKind};
use super::grants::{statement, EffectiveGrants};
use super::request::{Decision, Request};
use crate::catalog::{wildcard_match_case_sensitive, Catalog};
use crate::model::resource::PolicyRole;
use crate::model::{
    AttachedPolicy, Condition, Effect, Organization, Principal, PrincipalElement, PrincipalType,
    ResourceSpec,
};
use std::collections::{HashMap, VecDeque};

/// The actions that assume a role.
pub const ASSUME_ACTIONS: &[&str] = &[
    "sts:AssumeRole",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
];

/// A principal of the snapshot can assume a role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    /// Indexes into the principals the graph was built from.
    pub from: u32,
    pub to: u32,
    /// `false`: only under conditions the snapshot cannot decide.
    pub certain: bool,
}

/// Someone outside the snapshot whom a role's trust policy names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutsideAssumer {
    /// An account id, a role or user ARN of another account, a service, an
    /// identity provider ARN, or `*`.
    pub who: String,
    pub kind: CallerKind,
    pub action: String,
    pub statement: String,
    pub conditions: Vec<Condition>,
}

/// Who can assume one role.
#[derive(Clone, Debug, Default)]
pub struct RoleTrust {
    pub role: u32,
    pub outside: Vec<OutsideAssumer>,
}

/// The assume-role graph of an account.
#[derive(Clone, Debug, Default)]
pub struct TrustGraph {
    /// The ARNs of the principals, by index.
    pub arns: Vec<String>,
    index: HashMap<String, u32>,
    pub edges: Vec<Edge>,
    pub roles: Vec<RoleTrust>,
}

/// The resource patterns of a principal's `sts:AssumeRole` Allow statements
/// (`None`: on every resource).
fn assume_patterns(
    p: &Principal,
    g: &EffectiveGrants,
    id: crate::catalog::ActionId,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for c in g.reasons(id) {
        if c.effect != Effect::Allow || c.at.policy == super::PolicyRef::Boundary {
            continue;
        }
        if c.all_resources {
            return None;
        }
        if let Some(st) = statement(p, c.at) {
            match &st.resources {
                ResourceSpec::Resource(r) => out.extend(r.iter().cloned()),
                _ => return None,
            }
        }
    }
    Some(out)
}

impl TrustGraph {
    /// Builds the graph over the principals of an audit, with their grants.
    pub fn build<'a>(
        cat: &Catalog,
        principals: impl Iterator<Item = (&'a Principal, &'a EffectiveGrants)>,
        org: Option<&Organization>,
    ) -> TrustGraph {
        let all: Vec<(&Principal, &EffectiveGrants)> = principals.collect();
        let Some(assume) = cat.lookup("sts:AssumeRole") else {
            return TrustGraph::default();
        };
        let index: HashMap<&str, u32> = all
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.arn.as_str(), i as u32))
            .collect();
        let callers: Vec<Caller> = all
            .iter()
            .map(|(p, _)| Caller::of_principal(p, org))
            .collect();
        // Who may call sts:AssumeRole at all, and on which role patterns:
        // computed once per shared set of grants.
        let mut patterns: HashMap<usize, Option<Vec<String>>> = HashMap::new();
        let may_assume: Vec<Option<Option<Vec<String>>>> = all
            .iter()
            .map(|(p, g)| {
                if !g.granted.contains(assume) {
                    return None;
                }
                let key = std::ptr::from_ref(*g) as usize;
                Some(
                    patterns
                        .entry(key)
                        .or_insert_with(|| assume_patterns(p, g, assume))
                        .clone(),
                )
            })
            .collect();
        // Principals whose policies depend on who they are (principal
        // condition keys, policy variables): decided one by one.
        let caller_dependent: Vec<bool> = all
            .iter()
            .map(|(p, _)| {
                p.policies
                    .iter()
                    .chain(p.boundary.as_ref())
                    .flat_map(|a| a.document.statements.iter())
                    .any(|st| {
                        st.conditions.iter().any(|c| {
                            let k = c.key.to_ascii_lowercase();
                            k.starts_with("aws:principal") || k.starts_with("aws:user")
                        }) || match &st.resources {
                            ResourceSpec::Resource(r) | ResourceSpec::NotResource(r) => {
                                r.iter().any(|x| x.contains("${"))
                            }
                            ResourceSpec::None => false,
                        }
                    })
            })
            .collect();
        let mut memo: HashMap<(usize, usize), Option<bool>> = HashMap::new();
        let mut graph = TrustGraph {
            arns: all.iter().map(|(p, _)| p.arn.clone()).collect(),
            index: index.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            ..Default::default()
        };
        for (ri, (role, _)) in all.iter().enumerate() {
            let Some(trust) = &role.trust_policy else {
                continue;
            };
            if role.principal_type != PrincipalType::Role {
                continue;
            }
            let role_account = crate::model::resource::arn_account(&role.arn);
            let mut rt = RoleTrust {
                role: ri as u32,
                outside: Vec::new(),
            };
            // Candidates in the snapshot: those the trust names by ARN, and,
            // where it trusts the account or everyone, those whose own
            // grants reach the role.
            let mut candidates: Vec<u32> = Vec::new();
            let mut delegates = false;
            for st in trust
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Allow)
            {
                let action = ASSUME_ACTIONS
                    .iter()
                    .find(|a| super::request::statement_matches(st, a, &role.arn));
                let Some(action) = action else { continue };
                if st.not_principal {
                    delegates = true;
                    continue;
                }
                let Some(PrincipalElement::ByKind(kinds)) = &st.principal else {
                    if matches!(&st.principal, Some(PrincipalElement::Bare(s)) if s == "*") {
                        delegates = true;
                        rt.outside.push(OutsideAssumer {
                            who: "*".into(),
                            kind: CallerKind::Anyone,
                            action: action.to_string(),
                            statement: st.label(),
                            conditions: st.conditions.clone(),
                        });
                    }
                    continue;
                };
                for (kind, names_) in kinds {
                    for n in names_ {
                        let outside = |who: &str, k: CallerKind| OutsideAssumer {
                            who: who.to_string(),
                            kind: k,
                            action: action.to_string(),
                            statement: st.label(),
                            conditions: st.conditions.clone(),
                        };
                        match kind.as_str() {
                            "AWS" if n == "*" => {
                                delegates = true;
                                rt.outside.push(outside("*", CallerKind::Anyone));
                            }
                            "AWS" => {
                                let acct = if n.chars().all(|c| c.is_ascii_digit()) {
                                    Some(n.as_str())
                                } else {
                                    n.strip_prefix("arn:aws:iam::")
                                        .and_then(|r| r.strip_suffix(":root"))
                                };
                                match (acct, index.get(n.as_str())) {
                                    (Some(a), _) if Some(a) == role_account => delegates = true,
                                    (Some(a), _) => {
                                        rt.outside.push(outside(a, CallerKind::Account))
                                    }
                                    (None, Some(&i)) => candidates.push(i),
                                    (None, None) => {
                                        let k = if n.contains(":user/") {
                                            CallerKind::User
                                        } else {
                                            CallerKind::Role
                                        };
                                        rt.outside.push(outside(n, k));
                                    }
                                }
                            }
                            "Service" => rt.outside.push(outside(n, CallerKind::Service)),
                            "Federated" => rt.outside.push(outside(n, CallerKind::Federated)),
                            _ => {}
                        }
                    }
                }
            }
            // Those the trust names by ARN (before the account's are added).
            let mut named = candidates.clone();
            named.sort_unstable();
            if delegates {
                for (i, m) in may_assume.iter().enumerate() {
                    let reaches = match m {
                        None => false,
                        Some(None) => true,
                        Some(Some(pats)) => pats
                            .iter()
                            .any(|p| wildcard_match_case_sensitive(p, &role.arn)),
                    };
                    if reaches {
                        candidates.push(i as u32);
                    }
                }
            }
            // Whether the trust's answer is the same for every caller it
            // does not name: no statement has conditions.
            let trust_plain = trust.statements.iter().all(|s| s.conditions.is_empty());
            candidates.sort_unstable();
            candidates.dedup();
            for ci in candidates {
                if ci as usize == ri {
                    continue;
                }
                let (p, g) = all[ci as usize];
                let caller = &callers[ci as usize];
                // Callers with the same grants (the same policies, boundary
                // and organization decisions) get the same answer from a
                // trust without conditions, unless their own policies look
                // at who they are: decided once for all of them.
                let shared = trust_plain
                    && named.binary_search(&ci).is_err()
                    && !caller_dependent[ci as usize];
                let key = (std::ptr::from_ref(g) as usize, ri);
                if shared {
                    if let Some(hit) = memo.get(&key) {
                        if let Some(certain) = *hit {
                            graph.edges.push(Edge {
                                from: ci,
                                to: ri as u32,
                                certain,
                            });
                        }
                        continue;
                    }
                }
                // Only callers the trust names, or whose own policies could
                // allow it, get this far: decide exactly.
                let pols: Vec<&AttachedPolicy> = p.policies.iter().collect();
                let r = decide(&AccessRequest {
                    caller,
                    identity: IdentityInput {
                        policies: &pols,
                        boundary: p.boundary.as_ref(),
                        known: true,
                    },
                    resource_account: role_account,
                    resource_policy: ResourcePolicyInput::Policy(trust, PolicyRole::TrustPolicy),
                    org,
                    request: &Request {
                        action: "sts:AssumeRole".into(),
                        resource: role.arn.clone(),
                        context: Default::default(),
                    },
                    complete: false,
                });
                let edge = match r.decision {
                    Decision::Allow | Decision::Unknown => Some(r.decision == Decision::Allow),
                    _ => None,
                };
                if shared {
                    memo.insert(key, edge);
                }
                if let Some(certain) = edge {
                    graph.edges.push(Edge {
                        from: ci,
                        to: ri as u32,
                        certain,
                    });
                }
            }
            if !rt.outside.is_empty() {
                graph.roles.push(rt);
            }
        }
        graph
    }

    /// The roles a principal (by index) can assume.
    pub fn assumable_by(&self, from: u32) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.from == from)
    }

    /// The principals of the snapshot that can assume a role (by index).
    pub fn assumers_of(&self, role: u32) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.to == role)
    }

    /// The index of a principal by ARN.
    pub fn index_of(&self, arn: &str) -> Option<u32> {
        self.index.get(arn).copied()
    }

    /// For each principal, the shortest chain of assumptions to a principal
    /// `is_target` accepts (the principal itself not included; the target
    /// last), found by one breadth-first search backwards from every target
    /// at once. A principal that is a target itself has none.
    pub fn chains_to(&self, is_target: &dyn Fn(u32) -> bool) -> Vec<Option<Chain>> {
        let n = self.arns.len();
        let mut next: Vec<Option<(u32, bool)>> = vec![None; n];
        let mut dist: Vec<u32> = vec![u32::MAX; n];
        let mut queue = VecDeque::new();
        let mut incoming: HashMap<u32, Vec<&Edge>> = HashMap::new();
        for e in &self.edges {
            incoming.entry(e.to).or_default().push(e);
        }
        for (i, d) in dist.iter_mut().enumerate() {
            if is_target(i as u32) {
                *d = 0;
                queue.push_back(i as u32);
            }
        }
        while let Some(v) = queue.pop_front() {
            for e in incoming.get(&v).into_iter().flatten() {
                let u = e.from as usize;
                if dist[u] == u32::MAX {
                    dist[u] = dist[v as usize] + 1;
                    next[u] = Some((v, e.certain));
                    queue.push_back(e.from);
                }
            }
        }
        (0..n)
            .map(|i| {
                if dist[i] == 0 || dist[i] == u32::MAX {
                    return None;
                }
                let mut hops = Vec::new();
                let mut certain = true;
                let mut at = i;
                while let Some((to, c)) = next[at] {
                    hops.push(to);
                    certain &= c;
                    at = to as usize;
                    if dist[at] == 0 {
                        break;
                    }
                }
                Some(Chain { hops, certain })
            })
            .collect()
    }
}

/// A chain of role assumptions: the roles assumed, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub hops: Vec<u32>,
    /// Every hop holds without unknown conditions.
    pub certain: bool,
}

/// How a trust statement names a principal, for reports.
pub fn named_in(trust: &crate::model::PolicyDocument, caller: &Caller) -> Named {
    trust
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Allow)
        .map(|s| names(s, caller))
        .max()
        .unwrap_or(Named::No)
}

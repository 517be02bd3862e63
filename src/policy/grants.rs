//! Effective grants of a principal over the whole action catalog.
//!
//! Each statement becomes a `Contribution`: the set of catalog actions it
//! applies to (a bitset), after its `Resource`/`NotResource` has been checked
//! against each action's resource types. The effective grant is then
//! (identity allows ∩ boundary allows) − unconditional full denies, computed
//! with set operations. Reasons are kept by reference, so a grant can always
//! name the policy and statement that gave it.

use super::arn_match::{pattern_covers, pattern_meets_template, patterns_intersect};
use crate::catalog::{wildcard_match_case_sensitive, ActionId, ActionSet, Catalog};
use crate::model::{ActionSpec, Effect, Principal, ResourceSpec, Statement};
use std::collections::HashMap;

/// Which policy of the principal a statement belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyRef {
    /// Index into `Principal::policies`.
    Identity(usize),
    Boundary,
}

/// A statement of one of the principal's policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StmtRef {
    pub policy: PolicyRef,
    pub statement: usize,
}

/// What one statement contributes.
#[derive(Clone, Debug)]
pub struct Contribution {
    pub at: StmtRef,
    pub effect: Effect,
    /// Shared with every principal whose statement has the same action and
    /// resource elements (the statement cache hands out the same set).
    pub actions: std::sync::Arc<ActionSet>,
    pub conditional: bool,
    /// The statement's resource element covers every resource (`"*"`).
    pub all_resources: bool,
}

/// The principal's effective permissions.
#[derive(Clone, Debug)]
pub struct EffectiveGrants {
    /// Allowed by identity policies, within the boundary, not fully denied.
    pub granted: ActionSet,
    /// Of `granted`, those that hold only under conditions.
    pub conditional: ActionSet,
    /// Of `granted`, those a conditional or resource-limited Deny applies to.
    pub partially_denied: ActionSet,
    /// Allowed by identity policies but removed by an unconditional Deny.
    pub denied: ActionSet,
    /// Allowed by identity policies but not by the permissions boundary.
    pub outside_boundary: ActionSet,
    /// Allowed by the identity policies within the boundary, but blocked by
    /// the SCPs of the principal's account (an unconditional Deny on every
    /// resource, or a level of the organization with no Allow).
    pub blocked_by_org: ActionSet,
    /// Of `granted`, those an SCP or RCP limits: allowed only under
    /// conditions or on some resources, or denied so.
    pub org_limited: ActionSet,
    /// The organization policies' decision for the principal, when the
    /// snapshot describes its organization.
    pub org: Option<OrgGrants>,
    pub contributions: Vec<Contribution>,
}

/// What the SCPs of a principal's account and the RCPs of its own account's
/// resources decide for it.
#[derive(Clone, Debug)]
pub struct OrgGrants {
    pub scp: super::organization::Applies,
    pub rcp: super::organization::Applies,
}

impl OrgGrants {
    /// An identity for sharing: principals whose decisions are the same
    /// objects share grants.
    pub fn key(&self) -> (usize, usize) {
        use super::organization::Applies;
        let k = |a: &Applies| match a {
            Applies::Yes(d) => std::sync::Arc::as_ptr(d) as usize,
            Applies::No(e) => *e as usize,
        };
        (k(&self.scp), k(&self.rcp))
    }
}

/// The grants once the organization's policies are applied: what an SCP
/// blocks leaves `granted`; what an SCP or RCP limits is marked.
pub fn apply_org(mut g: EffectiveGrants, org: OrgGrants) -> EffectiveGrants {
    use super::organization::Applies;
    if let Applies::Yes(d) = &org.scp {
        let mut blocked = g.granted.clone();
        blocked.intersect_with(&d.blocked);
        g.granted.subtract(&blocked);
        g.blocked_by_org = blocked;
        let mut limited = g.granted.clone();
        limited.intersect_with(&d.limited);
        g.org_limited = limited;
    }
    // RCPs hold for the resources of member accounts only: on others the
    // grant stands, so an RCP limits a grant and never blocks it.
    if let Applies::Yes(d) = &org.rcp {
        for set in [&d.blocked, &d.limited] {
            let mut hit = g.granted.clone();
            hit.intersect_with(set);
            g.org_limited.union_with(&hit);
        }
    }
    g.conditional.intersect_with(&g.granted);
    g.partially_denied.intersect_with(&g.granted);
    g.org = Some(org);
    g
}

impl EffectiveGrants {
    /// Statements that allow or deny `id`, identity and boundary alike.
    pub fn reasons(&self, id: ActionId) -> impl Iterator<Item = &Contribution> {
        self.contributions
            .iter()
            .filter(move |c| c.actions.contains(id))
    }

    /// Whether an explicit Deny (in identity policies or the boundary) that
    /// covers every resource applies to `id`, conditions aside.
    pub fn explicitly_denied(&self, id: ActionId) -> bool {
        self.reasons(id).any(|c| c.effect == Effect::Deny)
    }
}

/// The statement a reference points at.
pub fn statement(principal: &Principal, at: StmtRef) -> Option<&Statement> {
    let doc = match at.policy {
        PolicyRef::Identity(i) => &principal.policies.get(i)?.document,
        PolicyRef::Boundary => &principal.boundary.as_ref()?.document,
    };
    doc.statements.get(at.statement)
}

/// Resource patterns a statement grants for one action (those that can match
/// one of its resource types), or `None` when it is `NotResource` (everything
/// except the listed patterns).
pub fn statement_resources(cat: &Catalog, st: &Statement, id: ActionId) -> Vec<String> {
    match &st.resources {
        ResourceSpec::Resource(pats) => pats
            .iter()
            .filter(|p| resource_applies(cat, id, p))
            .cloned()
            .collect(),
        ResourceSpec::NotResource(pats) => vec![format!("* except {}", pats.join(", "))],
        ResourceSpec::None => vec!["*".to_string()],
    }
}

/// Whether a policy resource pattern can name a resource of action `id`.
/// Actions without resource types are requested on `"*"`, so only patterns
/// that match the literal `*` apply to them (`s3:ListAllMyBuckets` needs `"*"`).
pub fn resource_applies(cat: &Catalog, id: ActionId, pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    // The same patterns meet the same actions for principal after principal
    // (data-event checks ask this for every unused data action): remembered
    // per thread, per pattern and action.
    type Cache = (usize, HashMap<Box<str>, HashMap<ActionId, bool>>);
    thread_local! {
        static APPLIES: std::cell::RefCell<Cache> = std::cell::RefCell::new((0, HashMap::new()));
    }
    APPLIES.with(|cell| {
        let mut guard = cell.borrow_mut();
        // Ids mean something only within one catalog.
        let this = std::ptr::from_ref(cat) as usize;
        if guard.0 != this {
            *guard = (this, HashMap::new());
        }
        let cache = &mut guard.1;
        if let Some(&hit) = cache.get(pattern).and_then(|m| m.get(&id)) {
            return hit;
        }
        let action = cat.action(id);
        let applies = if action.resource_types.is_empty() {
            wildcard_match_case_sensitive(pattern, "*")
        } else {
            action
                .resource_types
                .iter()
                .any(|r| pattern_meets_template(pattern, r.arn))
        };
        // Bounded: hostile policies with endless distinct patterns.
        if cache.len() > 50_000 {
            cache.clear();
        }
        match cache.get_mut(pattern) {
            Some(m) => {
                m.insert(id, applies);
            }
            None => {
                cache.insert(pattern.into(), HashMap::from([(id, applies)]));
            }
        }
        applies
    })
}

/// Expands a statement's action element to catalog actions, with a cache
/// because the same patterns recur across principals.
pub struct Expander<'c> {
    cat: &'c Catalog,
    cache: HashMap<String, ActionSet>,
    /// Action and resource elements to the actions they apply to: managed
    /// policies repeat the same statements across many principals, and
    /// resource matching against ARN templates is the costly part.
    statements: HashMap<(ActionSpec, ResourceSpec), (std::sync::Arc<ActionSet>, bool)>,
    /// Resource pattern to the actions it can name ([`resource_applies`] as
    /// a set): thousands of statements with distinct resources would
    /// otherwise each be matched against every action's ARN templates.
    applies: HashMap<String, ActionSet>,
}

impl<'c> Expander<'c> {
    pub fn new(cat: &'c Catalog) -> Self {
        Expander {
            cat,
            cache: HashMap::new(),
            statements: HashMap::new(),
            applies: HashMap::new(),
        }
    }

    /// The actions a resource pattern can name.
    pub fn applies(&mut self, pattern: &str) -> &ActionSet {
        if self.applies.contains_key(pattern) {
            return &self.applies[pattern];
        }
        let cat = self.cat;
        let set = if pattern == "*" {
            ActionSet::full(cat)
        } else {
            let service = pattern.split(':').nth(2);
            let index = cat.template_index();
            let (by, none) = (&index.by_service, &index.resource_less);
            let mut set = ActionSet::empty(cat);
            if wildcard_match_case_sensitive(pattern, "*") {
                set.union_with(none);
            }
            let candidates: Box<dyn Iterator<Item = ActionId> + '_> = match service {
                Some(s) if !s.contains(['*', '?']) => {
                    Box::new(by.get(s).into_iter().chain(by.get("*")).flatten().copied())
                }
                _ => Box::new(by.values().flatten().copied()),
            };
            // Tokenized once, and each distinct template intersected once:
            // thousands of actions share a few hundred templates.
            let tokens = crate::policy::arn_match::Pattern::new(pattern);
            let mut meets: HashMap<&str, bool> = HashMap::new();
            for id in candidates {
                if cat.action(id).resource_types.iter().any(|r| {
                    *meets
                        .entry(r.arn)
                        .or_insert_with(|| tokens.meets_template(r.arn))
                }) {
                    set.insert(id);
                }
            }
            set
        };
        self.applies.entry(pattern.to_string()).or_insert(set)
    }

    fn pattern(&mut self, p: &str) -> &ActionSet {
        let cat = self.cat;
        self.cache
            .entry(p.to_ascii_lowercase())
            .or_insert_with(|| cat.expand(p))
    }

    /// Catalog actions named by `Action` or not named by `NotAction`.
    pub fn actions(&mut self, spec: &ActionSpec) -> ActionSet {
        let (pats, negate) = match spec {
            ActionSpec::Action(p) => (p, false),
            ActionSpec::NotAction(p) => (p, true),
        };
        let mut set = ActionSet::empty(self.cat);
        for p in pats {
            set.union_with(self.pattern(p));
        }
        if negate {
            set.complement()
        } else {
            set
        }
    }
}

/// The actions of `set` that a statement's resource element lets it apply to.
fn apply_resources(
    cat: &Catalog,
    ex: &mut Expander,
    st: &Statement,
    mut set: ActionSet,
) -> (ActionSet, bool) {
    match &st.resources {
        ResourceSpec::None => (set, true),
        ResourceSpec::Resource(pats) if pats.iter().any(|p| p == "*") => (set, true),
        ResourceSpec::Resource(pats) => {
            let mut reach = ActionSet::empty(cat);
            for p in pats {
                reach.union_with(ex.applies(p));
            }
            set.intersect_with(&reach);
            (set, false)
        }
        ResourceSpec::NotResource(pats) => {
            if pats.iter().any(|p| p == "*") {
                return (ActionSet::empty(cat), false);
            }
            // A resource-less action is requested on "*": excluded when a
            // listed pattern matches the literal "*".
            let drop: Vec<ActionId> = set
                .iter()
                .filter(|&id| {
                    cat.action(id).resource_types.is_empty()
                        && pats.iter().any(|p| wildcard_match_case_sensitive(p, "*"))
                })
                .collect();
            for id in drop {
                set.remove(id);
            }
            (set, false)
        }
    }
}

/// The catalog actions a statement applies to after its resource element,
/// and whether it reaches every resource; cached per action and resource
/// element, so statements that recur across policies are expanded once.
pub fn statement_actions(
    cat: &Catalog,
    ex: &mut Expander,
    st: &Statement,
) -> (std::sync::Arc<ActionSet>, bool) {
    let key = (st.actions.clone(), st.resources.clone());
    if let Some(hit) = ex.statements.get(&key) {
        return hit.clone();
    }
    let expanded = ex.actions(&st.actions);
    let (set, all) = apply_resources(cat, ex, st, expanded);
    let applied = (std::sync::Arc::new(set), all);
    ex.statements.insert(key, applied.clone());
    applied
}

fn contributions(
    cat: &Catalog,
    ex: &mut Expander,
    policy: PolicyRef,
    statements: &[Statement],
    out: &mut Vec<Contribution>,
) {
    for (i, st) in statements.iter().enumerate() {
        let (actions, all_resources) = statement_actions(cat, ex, st);
        if actions.is_empty() {
            continue;
        }
        out.push(Contribution {
            at: StmtRef {
                policy,
                statement: i,
            },
            effect: st.effect,
            actions,
            conditional: !st.conditions.is_empty(),
            all_resources,
        });
    }
}

/// Computes a principal's effective grants over the catalog.
pub fn effective_grants(
    cat: &Catalog,
    ex: &mut Expander,
    principal: &Principal,
) -> EffectiveGrants {
    let mut contribs = Vec::new();
    for (i, p) in principal.policies.iter().enumerate() {
        contributions(
            cat,
            ex,
            PolicyRef::Identity(i),
            &p.document.statements,
            &mut contribs,
        );
    }
    if let Some(b) = &principal.boundary {
        contributions(
            cat,
            ex,
            PolicyRef::Boundary,
            &b.document.statements,
            &mut contribs,
        );
    }

    let allows = |policy_is_boundary: bool| {
        contribs.iter().filter(move |c| {
            c.effect == Effect::Allow
                && matches!(c.at.policy, PolicyRef::Boundary) == policy_is_boundary
        })
    };

    let mut identity = ActionSet::empty(cat);
    let mut identity_unconditional = ActionSet::empty(cat);
    for c in allows(false) {
        identity.union_with(&c.actions);
        if !c.conditional {
            identity_unconditional.union_with(&c.actions);
        }
    }
    let mut granted = identity.clone();
    let mut conditional = identity.clone();
    conditional.subtract(&identity_unconditional);

    let mut outside_boundary = ActionSet::empty(cat);
    if principal.boundary.is_some() {
        let mut bound = ActionSet::empty(cat);
        let mut bound_unconditional = ActionSet::empty(cat);
        for c in allows(true) {
            bound.union_with(&c.actions);
            if !c.conditional {
                bound_unconditional.union_with(&c.actions);
            }
        }
        // Both sides resource-specific: they must name a common resource.
        let overlap = boundary_overlap(cat, ex, principal, &contribs);
        let mut both_specific = identity.clone();
        both_specific.intersect_with(&bound);
        both_specific.subtract(&overlap);
        bound.subtract(&both_specific);
        outside_boundary = identity.clone();
        outside_boundary.subtract(&bound);
        granted.intersect_with(&bound);
        let mut bound_conditional = bound.clone();
        bound_conditional.subtract(&bound_unconditional);
        conditional.union_with(&bound_conditional);
    }
    conditional.intersect_with(&granted);

    // Explicit denies: unconditional and covering every allowed resource
    // remove the grant; others are kept and shown.
    let mut denied = ActionSet::empty(cat);
    let mut partially_denied = ActionSet::empty(cat);
    for d in contribs.iter().filter(|c| c.effect == Effect::Deny) {
        let mut hit = ActionSet::clone(&d.actions);
        hit.intersect_with(&granted);
        if hit.is_empty() {
            continue;
        }
        if d.conditional {
            partially_denied.union_with(&hit);
            continue;
        }
        if d.all_resources {
            denied.union_with(&hit);
            continue;
        }
        let uncovered = not_covered_by(cat, ex, principal, &contribs, d, &hit);
        let mut covered = hit.clone();
        covered.subtract(&uncovered);
        denied.union_with(&covered);
        hit.intersect_with(&uncovered);
        partially_denied.union_with(&hit);
    }
    granted.subtract(&denied);
    conditional.intersect_with(&granted);
    partially_denied.intersect_with(&granted);

    EffectiveGrants {
        granted,
        conditional,
        partially_denied,
        denied,
        outside_boundary,
        blocked_by_org: ActionSet::empty(cat),
        org_limited: ActionSet::empty(cat),
        org: None,
        contributions: contribs,
    }
}

/// Identity allows: the statement's resource patterns, or `None` when it
/// reaches every resource (`*`, `NotResource`, no element).
fn specific_patterns<'p>(principal: &'p Principal, c: &Contribution) -> Option<&'p [String]> {
    if c.all_resources {
        return None;
    }
    match &statement(principal, c.at)?.resources {
        ResourceSpec::Resource(p) => Some(p),
        _ => None,
    }
}

/// Actions for which the identity side and the boundary can name a common
/// resource: either side unbounded, or a pair of their patterns intersects.
/// Computed as sets, per statement pair, not per action.
fn boundary_overlap(
    cat: &Catalog,
    ex: &mut Expander,
    principal: &Principal,
    contribs: &[Contribution],
) -> ActionSet {
    let side = |boundary: bool| {
        contribs
            .iter()
            .filter(move |c| {
                c.effect == Effect::Allow && matches!(c.at.policy, PolicyRef::Boundary) == boundary
            })
            .collect::<Vec<_>>()
    };
    let (ident, bound) = (side(false), side(true));
    let mut overlap = ActionSet::empty(cat);
    for c in ident.iter().chain(&bound) {
        if specific_patterns(principal, c).is_none() {
            overlap.union_with(&c.actions);
        }
    }
    for ci in &ident {
        let Some(pi) = specific_patterns(principal, ci) else {
            continue;
        };
        for cb in &bound {
            if !ci.actions.intersects(&cb.actions) {
                continue;
            }
            let Some(pb) = specific_patterns(principal, cb) else {
                continue;
            };
            for a in pi {
                for b in pb {
                    if patterns_intersect(a, b) {
                        let mut x = ex.applies(a).clone();
                        x.intersect_with(ex.applies(b));
                        overlap.union_with_all_of(&ci.actions, &cb.actions, &x);
                    }
                }
            }
        }
    }
    overlap
}

/// Of the actions `hit` by an unconditional, resource-specific Deny, those
/// it does not cover: some identity Allow reaches a resource the Deny does
/// not name. Resource-less actions are only requested on "*", which the
/// Deny holds them for: always covered.
fn not_covered_by(
    cat: &Catalog,
    ex: &mut Expander,
    principal: &Principal,
    contribs: &[Contribution],
    deny: &Contribution,
    hit: &ActionSet,
) -> ActionSet {
    let mut uncovered = ActionSet::empty(cat);
    let Some(st) = statement(principal, deny.at) else {
        return hit.clone();
    };
    let covers = |a: &str| match &st.resources {
        ResourceSpec::Resource(deny_pats) => deny_pats.iter().any(|d| pattern_covers(d, a)),
        // Deny everything except X covers an allow that cannot reach X.
        ResourceSpec::NotResource(except) => !except.iter().any(|x| patterns_intersect(a, x)),
        ResourceSpec::None => true,
    };
    for c in contribs
        .iter()
        .filter(|c| c.effect == Effect::Allow && !matches!(c.at.policy, PolicyRef::Boundary))
    {
        if !c.actions.intersects(hit) {
            continue;
        }
        match specific_patterns(principal, c) {
            None => {
                let full = ActionSet::full(cat);
                uncovered.union_with_all_of(&c.actions, hit, &full);
            }
            Some(pats) => {
                for p in pats.iter().filter(|p| !covers(p)) {
                    uncovered.union_with_all_of(&c.actions, hit, ex.applies(p));
                }
            }
        }
    }
    uncovered.subtract(&cat.template_index().resource_less);
    uncovered
}

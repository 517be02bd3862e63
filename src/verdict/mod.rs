//! Granted versus used, per principal and action, with evidence: one
//! [`Verdict`] per principal and action, decided in one place
//! ([`decide::decide`], with the grant decision for the resources the
//! records named, [`decide::check_grant`]), which every renderer, rule,
//! `recommend`, `explain`, `secrets` and `diff` reads.
//!
//! Verdicts: **used** (succeeded in the window), **used-failed** (passed
//! authorization, then failed, or a dry run), **attempted** (an error that
//! says nothing about authorization), **denied** (only refused, with who
//! refused), **unused** (granted, the trails would have shown it, never
//! seen), **unobservable** (granted, the trails could not have shown it),
//! **not granted**. "Used without grant" is a use whose grant decision for
//! the named resources is no (or partly).
//!
//! This stage reads the account's principals (`model`), their effective
//! grants (`policy`), what the trails record (`ingest::trails`) and the
//! activity (`usage`); it may not import the rules, the audit or any renderer,
//! which all come after it.

pub mod decide;
pub mod observability;
pub mod outside;

use crate::catalog::{ActionId, ActionSet, Catalog};
use crate::ingest::trails::TrailCoverage;
use crate::model::Principal;
use crate::policy::grants::{
    effective_grants, statement, statement_resources, EffectiveGrants, Expander,
};
use crate::usage::{ActionStats, ActorActivity, ActorKind, Outcome, SessionsGranted};
pub use decide::{
    check_grant, Failures, Grant, GrantCheck, MessagesOnly, OutsideEvidence, OutsideRefusal,
    RefusedBy, Verdict,
};
use observability::{Observability, Unobservable};
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;

/// One action a principal used (a call succeeded), with its evidence.
#[derive(Clone, Debug)]
pub struct UsedAction {
    pub action: ActionId,
    pub stats: ActionStats,
    /// Whether the principal's own policies allow it on the resources the
    /// successful calls named (a use without a grant came through a
    /// resource policy, or the policies changed since).
    pub grant: GrantCheck,
}

impl UsedAction {
    /// Granted for every resource its calls named.
    pub fn granted(&self) -> bool {
        self.grant.granted.granted()
    }

    /// Granted only under conditions.
    pub fn conditional(&self) -> bool {
        self.grant.granted == Grant::Conditional
    }
}

/// The entry of `id` in a list sorted by action.
fn find_attempt(list: &[Attempt], id: ActionId) -> Option<&Attempt> {
    let i = list.binary_search_by_key(&id, |a| a.action).ok()?;
    Some(&list[i])
}

/// One action a principal tried and was refused, or whose calls failed.
#[derive(Clone, Debug)]
pub struct Attempt {
    pub action: ActionId,
    pub stats: ActionStats,
    /// The grant decision for the resources these calls named.
    pub grant: GrantCheck,
    /// Refusals: who refused. `None` for failures.
    pub refused_by: Option<RefusedBy>,
    /// Failures: how they ended. Zero for refusals.
    pub failures: Failures,
}

impl Attempt {
    /// Granted for every resource these calls named.
    pub fn granted(&self) -> bool {
        self.grant.granted.granted()
    }
}

/// An action the records show, with its verdict.
#[derive(Clone, Debug)]
pub struct Decided {
    pub action: ActionId,
    pub verdict: Verdict,
}

/// Granted versus used for one principal: its grants, what it used, was
/// refused or failed to do, the verdict of each of those actions, and what
/// it left unused or could not be seen doing.
#[derive(Clone, Debug)]
pub struct PrincipalVerdicts {
    pub principal: Principal,
    /// Shared by every principal with the same policy documents and boundary.
    pub grants: Arc<EffectiveGrants>,
    /// What the grants leave unused and unobservable before this principal's
    /// activity is taken out; shared like the grants. A broad grant leaves
    /// tens of thousands of actions unused: a copy per principal was the
    /// largest part of a 10,000-principal audit.
    by_grants: Arc<GrantVerdicts>,
    /// Evidence of success: sorted by action, one entry per action.
    pub used: Vec<UsedAction>,
    /// Evidence of refusal, whatever the action's verdict (a used action
    /// refused elsewhere keeps its refusals here).
    pub denied: Vec<Attempt>,
    /// Evidence of calls that neither succeeded nor were refused.
    pub failed: Vec<Attempt>,
    /// The verdict of every action the records show, sorted by action.
    pub decided: Vec<Decided>,
    /// The principal's activity, if it appears in the logs.
    pub activity: Option<ActorActivity>,
    /// Roles: what the AssumeRole calls for it asked for (session tags).
    pub sessions_granted: Option<SessionsGranted>,
}

impl PrincipalVerdicts {
    pub fn granted_count(&self) -> usize {
        self.grants.granted.len()
    }

    /// Whether the principal used `id` in the window (a call succeeded).
    pub fn is_used(&self, id: ActionId) -> bool {
        self.used.binary_search_by_key(&id, |u| u.action).is_ok()
    }

    /// The successes of `id`, if any.
    pub fn used_entry(&self, id: ActionId) -> Option<&UsedAction> {
        let i = self.used.binary_search_by_key(&id, |u| u.action).ok()?;
        Some(&self.used[i])
    }

    /// The failed calls of `id`, if any.
    pub fn failed_entry(&self, id: ActionId) -> Option<&Attempt> {
        find_attempt(&self.failed, id)
    }

    /// The refusals of `id`, if any.
    pub fn denied_entry(&self, id: ActionId) -> Option<&Attempt> {
        find_attempt(&self.denied, id)
    }

    /// The verdict of `id`, recorded or not: the one every output reads.
    pub fn verdict(&self, id: ActionId) -> Verdict {
        match self.recorded(id) {
            Some(v) => v.clone(),
            None => self.unrecorded(id),
        }
    }

    /// The verdict of `id` if the records show it.
    pub fn recorded(&self, id: ActionId) -> Option<&Verdict> {
        let i = self.decided.binary_search_by_key(&id, |d| d.action).ok()?;
        Some(&self.decided[i].verdict)
    }

    /// The verdict of an action the records do not show: from the grants.
    fn unrecorded(&self, id: ActionId) -> Verdict {
        let list = &self.by_grants.unobservable;
        if let Ok(i) = list.binary_search_by_key(&id, |x| x.0) {
            Verdict::Unobservable(list[i].1.clone())
        } else if self.by_grants.unused.contains(id) {
            Verdict::Unused
        } else {
            Verdict::NotGranted
        }
    }

    /// The verdict of `id` on one resource `arn`, by the same
    /// [`decide::decide`]: the grant is decided for `arn` alone, and a list of
    /// records counts when it named `arn`, or may have: its sample of
    /// resources is full (`resources_truncated`), or it named no resource of
    /// the action. Records that may have named it are never taken for
    /// "unused" on it.
    pub fn verdict_on<'a>(&'a self, cat: &Catalog, id: ActionId, arn: &str) -> Verdict {
        let one: crate::usage::ResourceSample = std::iter::once(arn).collect();
        let check = check_grant(cat, &self.principal, &self.grants, id, &one);
        let names = |s: &ActionStats, g: &GrantCheck| {
            s.resources.contains(arn) || s.resources_truncated || g.no_resource
        };
        let find =
            |list: &'a [Attempt]| find_attempt(list, id).filter(|a| names(&a.stats, &a.grant));
        let used = self
            .used_entry(id)
            .filter(|u| names(&u.stats, &u.grant))
            .map(|_| &check);
        let failures = find(&self.failed).map(|f| f.failures);
        // Who refused, for `arn`: its own policies when they refuse it; an
        // outside refusal as decided for the action; an own refusal of
        // another resource is decided again for this one.
        let refused = find(&self.denied).map(|d| match (check.own_refusal(), &d.refused_by) {
            (Some(own), _) => own.clone(),
            (None, Some(by @ RefusedBy::Outside(_))) => by.clone(),
            (None, _) => decide::refused_by(
                &self.principal,
                &self.grants,
                id,
                &d.stats,
                &check,
                &MessagesOnly,
            ),
        });
        let e = decide::Evidence {
            used,
            failed: failures.as_ref().map(|f| (f, &check)),
            denied: refused.as_ref(),
        };
        if let Some(v) = decide::decide(e) {
            return v;
        }
        if check.granted == Grant::No {
            return Verdict::NotGranted;
        }
        match self.unrecorded(id) {
            // Recorded on other resources only: the grant on this one is unused.
            Verdict::NotGranted if self.recorded(id).is_some() => Verdict::Unused,
            v => v,
        }
    }

    /// The uses its own policies do not grant on the resources they named
    /// ("used without grant"): successes whose grant decision is no or
    /// partly, and failures that surely passed authorization (not only
    /// likely) whose grant decision is. Ascending by action.
    pub fn used_without_grant(&self) -> impl Iterator<Item = WithoutGrant<'_>> {
        self.decided.iter().filter_map(move |d| {
            let (stats, grant, failed) = match d.verdict {
                Verdict::Used => self
                    .used_entry(d.action)
                    .map(|u| (&u.stats, &u.grant, false))?,
                Verdict::UsedFailed => self
                    .failed_entry(d.action)
                    .filter(|f| f.failures.failed + f.failures.dry_run > 0)
                    .map(|f| (&f.stats, &f.grant, true))?,
                _ => return None,
            };
            (!grant.granted.granted()).then_some(WithoutGrant {
                action: d.action,
                stats,
                grant,
                failed,
            })
        })
    }

    /// How many actions have each verdict: what every summary counts.
    pub fn counts(&self) -> VerdictCounts {
        let mut c = VerdictCounts {
            unused: self.unused().len(),
            unobservable: self.unobservable().len(),
            ..VerdictCounts::default()
        };
        for d in &self.decided {
            match d.verdict {
                Verdict::Used => c.used += 1,
                Verdict::UsedFailed => c.used_failed += 1,
                Verdict::Attempted => c.attempted += 1,
                Verdict::Denied(_) => c.denied += 1,
                // Never recorded verdicts.
                Verdict::Unused | Verdict::Unobservable(_) | Verdict::NotGranted => {}
            }
        }
        c
    }

    /// Granted, the trails would have shown it, never seen.
    pub fn unused(&self) -> Unused<'_> {
        Unused {
            set: &self.by_grants.unused,
            recorded: &self.decided,
        }
    }

    /// Granted, and the trails could not have shown it; ordered by action.
    pub fn unobservable(&self) -> UnobservableList<'_> {
        UnobservableList {
            list: &self.by_grants.unobservable,
            recorded: &self.decided,
        }
    }
}

/// A use that the principal's own policies do not grant
/// ([`PrincipalVerdicts::used_without_grant`]).
#[derive(Clone, Copy, Debug)]
pub struct WithoutGrant<'a> {
    pub action: ActionId,
    pub stats: &'a ActionStats,
    pub grant: &'a GrantCheck,
    /// The calls passed authorization and then failed (used-failed).
    pub failed: bool,
}

/// How many actions of a principal have each verdict (not granted aside).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerdictCounts {
    pub used: usize,
    pub used_failed: usize,
    pub attempted: usize,
    pub denied: usize,
    pub unused: usize,
    pub unobservable: usize,
}

impl std::ops::AddAssign for VerdictCounts {
    fn add_assign(&mut self, o: VerdictCounts) {
        self.used += o.used;
        self.used_failed += o.used_failed;
        self.attempted += o.attempted;
        self.denied += o.denied;
        self.unused += o.unused;
        self.unobservable += o.unobservable;
    }
}

/// What one set of grants leaves unused and unobservable, before any use.
#[derive(Debug)]
struct GrantVerdicts {
    unused: ActionSet,
    /// Sorted by action.
    unobservable: Vec<(ActionId, Unobservable)>,
}

/// Keeps the items whose action the records do not show; both ascend by
/// action, so one pass over each.
fn not_recorded<'a, T: 'a>(
    items: impl Iterator<Item = T> + 'a,
    key: impl Fn(&T) -> ActionId + 'a,
    recorded: &'a [Decided],
) -> impl Iterator<Item = T> + 'a {
    let mut at = 0;
    items.filter(move |t| {
        let id = key(t);
        while at < recorded.len() && recorded[at].action < id {
            at += 1;
        }
        recorded.get(at).is_none_or(|u| u.action != id)
    })
}

/// A principal's unused actions: its grants' unused set less what the
/// records show (used, failed, attempted or refused).
#[derive(Clone, Copy, Debug)]
pub struct Unused<'a> {
    set: &'a ActionSet,
    recorded: &'a [Decided],
}

impl<'a> Unused<'a> {
    #[cfg(test)]
    pub(crate) fn of(set: &'a ActionSet, recorded: &'a [Decided]) -> Self {
        Unused { set, recorded }
    }

    fn is_recorded(&self, id: ActionId) -> bool {
        self.recorded
            .binary_search_by_key(&id, |d| d.action)
            .is_ok()
    }

    pub fn contains(&self, id: ActionId) -> bool {
        self.set.contains(id) && !self.is_recorded(id)
    }

    pub fn len(&self) -> usize {
        self.set.len()
            - self
                .recorded
                .iter()
                .filter(|u| self.set.contains(u.action))
                .count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many of the unused actions have ids in `range` (a service's
    /// ids are one range), without listing them.
    pub fn count_in(&self, range: std::ops::Range<u32>) -> usize {
        let lo = self.recorded.partition_point(|u| u.action.0 < range.start);
        let hi = self.recorded.partition_point(|u| u.action.0 < range.end);
        let recorded = self.recorded[lo..hi]
            .iter()
            .filter(|u| self.set.contains(u.action))
            .count();
        self.set.count_in(range) - recorded
    }

    /// Ascending by id, i.e. by (service, name).
    pub fn iter(&self) -> impl Iterator<Item = ActionId> + 'a {
        not_recorded(self.set.iter(), |id| *id, self.recorded)
    }
}

/// A principal's unobservable actions with the reason, ascending by action.
#[derive(Clone, Copy, Debug)]
pub struct UnobservableList<'a> {
    list: &'a [(ActionId, Unobservable)],
    recorded: &'a [Decided],
}

impl<'a> UnobservableList<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &'a (ActionId, Unobservable)> + 'a {
        not_recorded(self.list.iter(), |x| x.0, self.recorded)
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Why `id` is unobservable, if it is.
    pub fn get(&self, id: ActionId) -> Option<&'a Unobservable> {
        let i = self.list.binary_search_by_key(&id, |x| x.0).ok()?;
        let recorded = self
            .recorded
            .binary_search_by_key(&id, |u| u.action)
            .is_ok();
        (!recorded).then_some(&self.list[i].1)
    }
}

/// An identity in the logs that is not a principal of the snapshot: root,
/// federated users, other accounts, deleted principals.
#[derive(Clone, Debug)]
pub struct OtherActor {
    pub arn: String,
    pub kind: ActorKind,
    pub activity: ActorActivity,
}

/// Computes verdicts for every principal of the account. Takes the
/// principals and actors by value: each moves into its verdicts, uncopied.
/// The refusals the principals' own policies do not explain are attributed
/// from the refusal messages ([`MessagesOnly`]).
pub fn principal_verdicts(
    cat: &'static Catalog,
    obs: &Observability,
    cov: &TrailCoverage,
    principals: Vec<Principal>,
    actors: crate::util::FastMap<String, ActorActivity>,
    sessions_granted: &HashMap<String, SessionsGranted>,
) -> (Vec<PrincipalVerdicts>, Vec<OtherActor>) {
    principal_verdicts_in(cat, obs, cov, principals, actors, sessions_granted, None)
}

/// [`principal_verdicts`] within an organization: what the SCPs of a
/// principal's account block is not granted, and what SCPs or RCPs limit is
/// marked; a refusal its own policies do not explain is attributed to the
/// SCP or RCP that refuses it ([`outside::Organizational`]), else from the
/// messages.
pub fn principal_verdicts_in(
    cat: &'static Catalog,
    obs: &Observability,
    cov: &TrailCoverage,
    principals: Vec<Principal>,
    actors: crate::util::FastMap<String, ActorActivity>,
    sessions_granted: &HashMap<String, SessionsGranted>,
    org: Option<&crate::policy::organization::OrgEval>,
) -> (Vec<PrincipalVerdicts>, Vec<OtherActor>) {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, p) in principals.iter().enumerate() {
        index.insert(p.arn.as_str(), i);
    }
    // Sessions whose issuer was missing carry a role ARN without its path.
    let mut by_pathless: HashMap<String, usize> = HashMap::new();
    for (i, p) in principals.iter().enumerate() {
        if p.principal_type == crate::model::PrincipalType::Role {
            let acct = p.arn.split(':').nth(4).unwrap_or("");
            by_pathless.insert(format!("arn:aws:iam::{acct}:role/{}", p.name), i);
        }
    }
    let mut slots: Vec<Option<ActorActivity>> = Vec::new();
    slots.resize_with(principals.len(), || None);
    let mut others = Vec::new();
    let audited: std::collections::BTreeSet<&str> = principals
        .iter()
        .filter_map(|p| p.arn.split(':').nth(4))
        .collect();
    for (arn, act) in actors {
        let target = index
            .get(arn.as_str())
            .or_else(|| by_pathless.get(arn.as_str()))
            .copied();
        match target {
            Some(i) if act.kind == ActorKind::Principal => match &mut slots[i] {
                Some(existing) => existing.merge(act),
                slot => *slot = Some(act),
            },
            // A user or role the snapshot does not hold is reported apart:
            // another account's as external; an audited account's (deleted,
            // or created after the snapshot) as not in the snapshot.
            _ => others.push(OtherActor {
                kind: match act.kind {
                    ActorKind::Principal
                        if arn.split(':').nth(4).is_some_and(|a| audited.contains(a)) =>
                    {
                        ActorKind::NotInSnapshot
                    }
                    ActorKind::Principal => ActorKind::External,
                    k => k,
                },
                arn,
                activity: act,
            }),
        }
    }
    others.sort_by(|a, b| (a.kind, &a.arn).cmp(&(b.kind, &b.arn)));

    let fixed = obs.fixed(cat, cov);
    // Effective grants depend only on the policy documents, in order, and the
    // boundary: principals that share them (roles from one template, users
    // of one group; identical inline documents are shared when the snapshot
    // is read) are evaluated once and share the result.
    let mut bases: HashMap<GrantsKey, usize> = HashMap::new();
    let mut base_reps: Vec<usize> = Vec::new();
    let base_of: Vec<usize> = principals
        .iter()
        .enumerate()
        .map(|(i, p)| {
            *bases.entry(grants_key(p)).or_insert_with(|| {
                base_reps.push(i);
                base_reps.len() - 1
            })
        })
        .collect();
    // Within an organization, what the SCPs decide depends on the account
    // and the few principal conditions they hold (computed once per such
    // case, `OrgEval`): principals share grants when both are the same.
    let org_of: Vec<Option<crate::policy::grants::OrgGrants>> = match org {
        Some(o) => principals
            .par_iter()
            .map(|p| Some(o.grants_for(p)))
            .collect(),
        None => vec![None; principals.len()],
    };
    let mut combos: HashMap<(usize, (usize, usize)), usize> = HashMap::new();
    let mut reps: Vec<(usize, usize)> = Vec::new();
    let combo_of: Vec<usize> = (0..principals.len())
        .map(|i| {
            let key = (base_of[i], org_of[i].as_ref().map_or((0, 0), |o| o.key()));
            *combos.entry(key).or_insert_with(|| {
                reps.push((base_of[i], i));
                reps.len() - 1
            })
        })
        .collect();
    let base: Vec<EffectiveGrants> = base_reps
        .par_iter()
        .map_init(
            || Expander::new(cat),
            |ex, &i| effective_grants(cat, ex, &principals[i]),
        )
        .collect();
    let shared: Vec<(Arc<EffectiveGrants>, Arc<GrantVerdicts>)> = reps
        .par_iter()
        .map(|&(b, i)| {
            let p = &principals[i];
            let g = match &org_of[i] {
                Some(o) => crate::policy::grants::apply_org(base[b].clone(), o.clone()),
                None => base[b].clone(),
            };
            let v = grant_verdicts(cat, obs, &fixed, cov, p, &g);
            (Arc::new(g), Arc::new(v))
        })
        .collect();
    drop(base);
    let by_org = org.map(|o| outside::Organizational { cat, org: o.org });
    let outside: &dyn OutsideEvidence = match &by_org {
        Some(o) => o,
        None => &MessagesOnly,
    };
    let verdicts = principals
        .into_par_iter()
        .zip(combo_of.par_iter())
        .zip(slots.into_par_iter())
        .map(|((p, &combo), act)| {
            let (grants, by_grants) = &shared[combo];
            let sessions = sessions_granted.get(&p.arn).cloned();
            let mut a = verdicts_of(
                cat,
                outside,
                p,
                Arc::clone(grants),
                Arc::clone(by_grants),
                act,
            );
            a.sessions_granted = sessions;
            a
        })
        .collect();
    (verdicts, others)
}

/// The policy documents of a principal by identity (their addresses, which
/// are stable while the account is borrowed), in order, and its boundary's.
type GrantsKey = (Vec<usize>, Option<usize>);

fn grants_key(p: &Principal) -> GrantsKey {
    (
        p.policies
            .iter()
            .map(|a| Arc::as_ptr(&a.document) as usize)
            .collect(),
        p.boundary
            .as_ref()
            .map(|b| Arc::as_ptr(&b.document) as usize),
    )
}

/// Granted resource patterns of `id` for a principal, over all allowing statements.
pub fn granted_resources(
    cat: &Catalog,
    p: &Principal,
    g: &EffectiveGrants,
    id: ActionId,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in g.reasons(id) {
        if c.effect != crate::model::Effect::Allow
            || c.at.policy == crate::policy::PolicyRef::Boundary
        {
            continue;
        }
        if let Some(st) = statement(p, c.at) {
            for r in statement_resources(cat, st, id) {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
    }
    out.sort();
    out
}

/// The verdicts that depend only on the grants: computed once for all the
/// principals that share them.
fn grant_verdicts(
    cat: &Catalog,
    obs: &Observability,
    fixed: &observability::FixedVerdicts,
    cov: &TrailCoverage,
    p: &Principal,
    grants: &EffectiveGrants,
) -> GrantVerdicts {
    let mut unused = grants.granted.clone();
    // Verdicts that hold whoever the principal is come from one table; only
    // data events depend on what this principal is granted.
    let mut unobservable = Vec::new();
    let mut maybe = unused.clone();
    maybe.intersect_with(&fixed.unobservable);
    for id in maybe.iter() {
        if let Some(why) = fixed.why(id) {
            unobservable.push((id, why.clone()));
        }
    }
    unused.subtract(&fixed.unobservable);
    let mut data = unused.clone();
    data.intersect_with(&fixed.data);
    for id in data.iter() {
        if let Some(why) = obs.unobservable(cat, cov, id, || granted_resources(cat, p, grants, id))
        {
            unobservable.push((id, why));
            unused.remove(id);
        }
    }
    unobservable.sort_by_key(|(id, _)| *id);
    unobservable.shrink_to_fit();
    GrantVerdicts {
        unused,
        unobservable,
    }
}

/// The evidence of one principal, moved out of its activity into the
/// used, denied and failed lists, each decided for its resources, and the
/// verdict of every action the records show.
fn verdicts_of(
    cat: &Catalog,
    outside: &dyn OutsideEvidence,
    p: Principal,
    grants: Arc<EffectiveGrants>,
    by_grants: Arc<GrantVerdicts>,
    mut activity: Option<ActorActivity>,
) -> PrincipalVerdicts {
    let mut used: Vec<UsedAction> = Vec::new();
    let mut denied: Vec<Attempt> = Vec::new();
    let mut failed: Vec<(ActionId, ActionStats, Failures)> = Vec::new();
    if let Some(a) = &mut activity {
        // The evidence moves into the verdicts, which keep the rest of
        // the activity (sessions, source identities) without a second copy.
        for ((id, outcome), stats) in std::mem::take(&mut a.actions) {
            let check = |s: &ActionStats| check_grant(cat, &p, &grants, id, &s.resources);
            match outcome {
                Outcome::Success => used.push(UsedAction {
                    action: id,
                    grant: check(&stats),
                    stats,
                }),
                Outcome::Denied => {
                    let grant = check(&stats);
                    let by = decide::refused_by(&p, &grants, id, &stats, &grant, outside);
                    denied.push(Attempt {
                        action: id,
                        grant,
                        stats,
                        refused_by: Some(by),
                        failures: Failures::default(),
                    });
                }
                // One entry per action, whatever the ways its calls failed;
                // the keys come by action, then outcome.
                Outcome::Failed | Outcome::FailedLikely | Outcome::DryRun | Outcome::Error => {
                    let n = stats.count;
                    let entry = match failed.last_mut() {
                        Some(f) if f.0 == id => {
                            f.1.merge(stats);
                            f
                        }
                        _ => {
                            failed.push((id, stats, Failures::default()));
                            failed.last_mut().expect("just pushed")
                        }
                    };
                    let f = &mut entry.2;
                    match outcome {
                        Outcome::Failed => f.failed += n,
                        Outcome::FailedLikely => f.failed_likely += n,
                        Outcome::DryRun => f.dry_run += n,
                        _ => f.error += n,
                    }
                }
            }
        }
    }
    let mut failed: Vec<Attempt> = failed
        .into_iter()
        .map(|(id, stats, failures)| Attempt {
            action: id,
            grant: check_grant(cat, &p, &grants, id, &stats.resources),
            stats,
            refused_by: None,
            failures,
        })
        .collect();
    // Action ids are ordered by (service, name): sorting by id sorts by name.
    used.sort_by_key(|u| u.action);
    denied.sort_by_key(|d| d.action);
    failed.sort_by_key(|f| f.action);
    let decided = decide_all(&used, &failed, &denied);
    // These lists live until the report is written, for every principal.
    used.shrink_to_fit();
    for v in [&mut denied, &mut failed] {
        v.shrink_to_fit();
    }
    PrincipalVerdicts {
        principal: p,
        grants,
        by_grants,
        used,
        denied,
        failed,
        decided,
        activity,
        sessions_granted: None,
    }
}

/// The verdict of every action of the three evidence lists (each sorted by
/// action), by [`decide::decide`].
fn decide_all(used: &[UsedAction], failed: &[Attempt], denied: &[Attempt]) -> Vec<Decided> {
    let mut ids: Vec<ActionId> = used
        .iter()
        .map(|u| u.action)
        .chain(failed.iter().map(|f| f.action))
        .chain(denied.iter().map(|d| d.action))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out: Vec<Decided> = ids
        .into_iter()
        .filter_map(|id| {
            let e = decide::Evidence {
                used: used
                    .binary_search_by_key(&id, |u| u.action)
                    .ok()
                    .map(|i| &used[i].grant),
                failed: find_attempt(failed, id).map(|f| (&f.failures, &f.grant)),
                denied: find_attempt(denied, id).and_then(|d| d.refused_by.as_ref()),
            };
            Some(Decided {
                action: id,
                verdict: decide::decide(e)?,
            })
        })
        .collect();
    out.shrink_to_fit();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::trails::TrailCoverage;

    /// The audit of `account` with management events only recorded.
    fn audit(
        account: &crate::model::Account,
        actors: crate::util::FastMap<String, ActorActivity>,
    ) -> (Vec<PrincipalVerdicts>, Vec<OtherActor>) {
        let cat = Catalog::embedded();
        let obs = Observability::embedded(cat).unwrap();
        principal_verdicts(
            cat,
            &obs,
            &TrailCoverage::assumed_management_only(),
            account.principals.clone(),
            actors,
            &HashMap::new(),
        )
    }

    fn actor(kind: ActorKind) -> ActorActivity {
        let mut a = ActorActivity::empty(kind);
        a.records = 1;
        a
    }

    #[test]
    fn principals_missing_from_the_snapshot_are_external() {
        let account = crate::ingest::iam::parse(
            br#"{"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::1:role/svc/r"}]}"#,
            std::path::Path::new("iam.json"),
        )
        .unwrap();
        let mut actors = crate::util::FastMap::default();
        // The issuer was missing: matched by name despite the path.
        actors.insert(
            "arn:aws:iam::1:role/r".to_string(),
            actor(ActorKind::Principal),
        );
        actors.insert(
            "arn:aws:iam::2:role/other".to_string(),
            actor(ActorKind::Principal),
        );
        actors.insert("arn:aws:iam::1:root".to_string(), actor(ActorKind::Root));
        let (audits, others) = audit(&account, actors);
        assert!(audits[0].activity.is_some());
        let kinds: Vec<(&str, ActorKind)> =
            others.iter().map(|o| (o.arn.as_str(), o.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("arn:aws:iam::1:root", ActorKind::Root),
                ("arn:aws:iam::2:role/other", ActorKind::External)
            ]
        );
    }

    #[test]
    fn a_principal_s_use_is_taken_out_of_its_shared_verdicts() {
        let cat = Catalog::embedded();
        // Two roles with one document: one used an action, the other did not.
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:GetObject","rds-db:connect","kms:Decrypt"],"Resource":"*"}]}"#;
        let role = |n: &str| {
            format!(
                r#"{{"RoleName":"{n}","Arn":"arn:aws:iam::1:role/{n}","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{doc}}}]}}"#
            )
        };
        let text = format!(r#"{{"RoleDetailList":[{},{}]}}"#, role("a"), role("b"));
        let account =
            crate::ingest::iam::parse(text.as_bytes(), std::path::Path::new("iam.json")).unwrap();
        let id = |n: &str| cat.lookup(n).unwrap();
        let stats = ActionStats {
            count: 1,
            ..Default::default()
        };
        let mut act = actor(ActorKind::Principal);
        for n in ["s3:ListAllMyBuckets", "rds-db:connect", "kms:Decrypt"] {
            act.actions.insert((id(n), Outcome::Success), stats.clone());
        }
        let mut actors = crate::util::FastMap::default();
        actors.insert("arn:aws:iam::1:role/a".to_string(), act);
        // Management events only: the object read is unobservable.
        let (audits, _) = audit(&account, actors);
        let (a, b) = (&audits[0], &audits[1]);
        assert!(Arc::ptr_eq(&a.by_grants, &b.by_grants));
        let names = |ids: Vec<ActionId>| {
            ids.into_iter()
                .map(|i| cat.full_name(i))
                .collect::<Vec<_>>()
        };
        let unobservable =
            |p: &PrincipalVerdicts| names(p.unobservable().iter().map(|(i, _)| *i).collect());
        // rds-db:connect is never logged; using it still makes it used.
        assert_eq!(unobservable(b), ["rds-db:connect", "s3:GetObject"]);
        assert_eq!(unobservable(a), ["s3:GetObject"]);
        assert_eq!(a.unobservable().len(), 1);
        assert!(a.unobservable().get(id("rds-db:connect")).is_none());
        assert!(b.unobservable().get(id("rds-db:connect")).is_some());
        assert_eq!(
            names(b.unused().iter().collect()),
            ["kms:Decrypt", "s3:ListAllMyBuckets"]
        );
        assert!(a.unused().is_empty());
        assert_eq!(a.unused().len(), 0);
        assert!(!a.unused().contains(id("kms:Decrypt")));
        assert!(b.unused().contains(id("kms:Decrypt")));
        assert!(a.is_used(id("kms:Decrypt")) && !b.is_used(id("kms:Decrypt")));
    }

    #[test]
    fn principals_with_the_same_documents_share_their_grants() {
        let cat = Catalog::embedded();
        // a and b: the same inline document (as separate JSON); c: another;
        // d: a's document and a boundary.
        let doc = r#"{"Statement":[{"Effect":"Allow","Action":["s3:Get*","kms:Decrypt"],"Resource":"*"},{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        let other = r#"{"Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}"#;
        let role = |name: &str, d: &str, boundary: bool| {
            format!(
                r#"{{"RoleName":"{name}","Arn":"arn:aws:iam::1:role/{name}","RolePolicyList":[{{"PolicyName":"p","PolicyDocument":{d}}}]{}}}"#,
                if boundary {
                    r#","PermissionsBoundary":{"PermissionsBoundaryArn":"arn:aws:iam::1:policy/pb"}"#
                } else {
                    ""
                }
            )
        };
        let text = format!(
            r#"{{"RoleDetailList":[{},{},{},{}],"Policies":[{{"PolicyName":"pb","Arn":"arn:aws:iam::1:policy/pb","DefaultVersionId":"v1","PolicyVersionList":[{{"VersionId":"v1","IsDefaultVersion":true,"Document":{{"Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"}}]}}}}]}}]}}"#,
            role("a", doc, false),
            role("b", doc, false),
            role("c", other, false),
            role("d", doc, true)
        );
        let account =
            crate::ingest::iam::parse(text.as_bytes(), std::path::Path::new("iam.json")).unwrap();
        let p = |n: &str| account.principals.iter().position(|p| p.name == n).unwrap();
        assert!(Arc::ptr_eq(
            &account.principals[p("a")].policies[0].document,
            &account.principals[p("b")].policies[0].document
        ));
        let (audits, _) = audit(&account, Default::default());
        let g = |n: &str| &audits[p(n)].grants;
        assert!(Arc::ptr_eq(g("a"), g("b")));
        assert!(!Arc::ptr_eq(g("a"), g("c")));
        assert!(!Arc::ptr_eq(g("a"), g("d")));
        // Shared grants are the grants each would have had on its own.
        for n in ["a", "b", "c", "d"] {
            let alone = effective_grants(cat, &mut Expander::new(cat), &account.principals[p(n)]);
            assert_eq!(g(n).granted, alone.granted, "{n}");
            assert_eq!(g(n).partially_denied, alone.partially_denied, "{n}");
            assert_eq!(g(n).outside_boundary, alone.outside_boundary, "{n}");
        }
        assert!(g("d")
            .outside_boundary
            .contains(cat.lookup("kms:Decrypt").unwrap()));
        assert!(g("a")
            .partially_denied
            .contains(cat.lookup("s3:GetObject").unwrap()));
    }
}

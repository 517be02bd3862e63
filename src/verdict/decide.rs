//! The verdict: its type, and the one function that decides it from the
//! evidence of one principal and action ([`decide`]), with the grant
//! decision for the resources the records named ([`check_grant`]) and who
//! refused a refusal ([`refused_by`]). Every renderer, rule, `recommend`,
//! `explain`, `secrets` and `diff` reads what these decide; none decides on
//! its own.

use super::observability::Unobservable;
use crate::catalog::{ActionId, Catalog};
use crate::model::{Effect, Principal};
use crate::policy::grants::{EffectiveGrants, PolicyRef, StmtRef};
use crate::policy::named::{decide as own_decision, names_resource_of, OwnDecision};
use crate::usage::{ActionStats, PolicyType, ResourceSample};

/// What the trails say a principal did with one action, decided once.
///
/// Precedence when an action has several outcomes: used > used-failed >
/// attempted > denied; without any record, unobservable or unused (granted)
/// or not granted. An action that was refused or attempted is never also
/// unused or unobservable. "Used without grant" is a used (or used-failed)
/// verdict whose [`GrantCheck::granted`] is [`Grant::No`] or [`Grant::Partly`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// At least one call succeeded in the window.
    Used,
    /// No success, but a call passed authorization and then failed (or was
    /// a dry run): the principal needs the permission; recommend keeps it.
    UsedFailed,
    /// No success and no authorized failure, but calls that ended with an
    /// error saying nothing about authorization (an unknown code,
    /// throttling, validation, a likely-authorized failure of an action its
    /// own policies do not grant): an attempt, never use.
    Attempted,
    /// Only refusals, and who refused.
    Denied(RefusedBy),
    /// Granted, the trails would have shown a use, none seen.
    Unused,
    /// Granted, the trails could not have shown a use.
    Unobservable(Unobservable),
    /// Not granted, and not seen.
    NotGranted,
}

impl Verdict {
    /// The name the reports write (CSV `verdict`, JSON `verdict`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Used => "used",
            Verdict::UsedFailed => "used-failed",
            Verdict::Attempted => "attempted",
            Verdict::Denied(_) => "denied",
            Verdict::Unused => "unused",
            Verdict::Unobservable(_) => "unobservable",
            Verdict::NotGranted => "not-granted",
        }
    }

    /// Every name [`Verdict::as_str`] writes.
    pub const NAMES: [&'static str; 7] = [
        "used",
        "used-failed",
        "attempted",
        "denied",
        "unused",
        "unobservable",
        "not-granted",
    ];

    /// The principal needs the permission: a success or an authorized failure.
    pub fn is_use(&self) -> bool {
        matches!(self, Verdict::Used | Verdict::UsedFailed)
    }

    /// The records show the action (used, failed, attempted or refused).
    pub fn is_recorded(&self) -> bool {
        matches!(
            self,
            Verdict::Used | Verdict::UsedFailed | Verdict::Attempted | Verdict::Denied(_)
        )
    }
}

/// Whether the principal's own policies grant an action for the resources
/// the records named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grant {
    /// Allowed for every named resource (or, with no resource named, the
    /// action is granted).
    Yes,
    /// Allowed only under conditions the records cannot show (or an
    /// uncertain match: a name without its ARN's path or suffix).
    Conditional,
    /// Allowed for some named resources, not for others.
    Partly,
    /// Allowed for none.
    No,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Yes => "yes",
            Grant::Conditional => "conditional",
            Grant::Partly => "partly",
            Grant::No => "no",
        }
    }

    /// The reports' `granted` boolean: allowed for every named resource,
    /// perhaps under conditions.
    pub fn granted(self) -> bool {
        matches!(self, Grant::Yes | Grant::Conditional)
    }
}

/// The grant decision for the resources one list of records named. One for
/// each action a principal used, failed or was refused (1.7 million in an
/// organization of 100,000 principals), kept until the report is written:
/// its lists are boxed slices (a vector grown by one push holds room for
/// four) and the refusal, most often none, is boxed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantCheck {
    pub granted: Grant,
    /// Named resources the own policies do not allow (of the sample kept).
    pub not_granted: Box<[String]>,
    /// The records named no resource of the action: decided per action.
    pub no_resource: bool,
    /// The identity Allow statements that match the named resources (every
    /// one that grants the action when no resource was named), even where a
    /// Deny or the boundary refuses them: `explain` credits these only.
    pub statements: Box<[StmtRef]>,
    /// Why the own policies refuse the first named resource they do not
    /// allow (or the action, when no resource was named).
    own_refusal: Option<Box<RefusedBy>>,
}

impl GrantCheck {
    /// Why the own policies refuse the first named resource they do not
    /// allow (the action, when none was named), if they refuse one.
    pub fn own_refusal(&self) -> Option<&RefusedBy> {
        self.own_refusal.as_deref()
    }
}

/// Who refused a refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefusedBy {
    /// The principal's own policies: no Allow matches the action or the
    /// named resource (another account, Region or name).
    NoGrant,
    /// An explicit Deny of its own policies matches.
    OwnDeny(StmtRef),
    /// The only Allows exclude the resource through `NotResource`.
    NotResource(StmtRef),
    /// Its identity policies allow it, its permissions boundary does not.
    Boundary,
    /// Its own policies allow it only under a condition (the first such
    /// Allow, when one is known) that the records cannot show held.
    Condition(Option<StmtRef>),
    /// The only Allow that matches the resource has a condition the record
    /// shows unmet (`aws:RequestedRegion` against the resource's Region).
    ConditionUnmet(StmtRef),
    /// Its own policies allow it: something outside the snapshot refused.
    /// Boxed: the other refusals need at most a statement, and a verdict
    /// (one per recorded action of every principal) is as large as this.
    Outside(Box<OutsideRefusal>),
}

/// A refusal that the snapshot does not explain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutsideRefusal {
    /// The policy type named by the refusal message or by an evaluation of
    /// policies outside the snapshot; `None`: unknown.
    pub policy: Option<PolicyType>,
    /// Which policy, when an evaluation knows it (an SCP's name or ARN).
    pub name: Option<String>,
    /// What the organization's SCPs and RCPs say of it, when the audit has
    /// `organization.json` and they have something to do with it (a
    /// `MayRefuse` is evidence, not an attribution: `policy` then stays
    /// what the messages named).
    pub org: Option<super::outside::OrgRefusal>,
}

impl RefusedBy {
    /// The code the reports write (JSON and CSV `refused_by`).
    pub fn code(&self) -> &'static str {
        match self {
            RefusedBy::NoGrant => "no-grant",
            RefusedBy::OwnDeny(_) => "own-deny",
            RefusedBy::NotResource(_) => "not-resource",
            RefusedBy::Boundary => "boundary",
            RefusedBy::Condition(_) | RefusedBy::ConditionUnmet(_) => "condition",
            RefusedBy::Outside(o) => match o.policy {
                Some(t) if !t.is_own() => t.as_str(),
                _ => "outside",
            },
        }
    }

    /// The refusal is explained by the principal's own policies.
    pub fn is_own(&self) -> bool {
        !matches!(self, RefusedBy::Outside(_))
    }

    /// A sentence for a reader, naming the statement when there is one.
    pub fn describe(&self, p: &Principal) -> String {
        let at = |s: &StmtRef| statement_label(p, *s);
        match self {
            RefusedBy::NoGrant => {
                "its own policies: no Allow matches the action (on the resource named, if any)"
                    .into()
            }
            RefusedBy::OwnDeny(s) => format!("its own policies: explicit Deny in {}", at(s)),
            RefusedBy::NotResource(s) => format!(
                "its own policies: the Allow in {} excludes the resource (NotResource)",
                at(s)
            ),
            RefusedBy::Boundary => "its permissions boundary".into(),
            RefusedBy::ConditionUnmet(s) => format!(
                "its own policies: the condition of {} is unmet in the resource's Region (aws:RequestedRegion)",
                at(s)
            ),
            RefusedBy::Condition(Some(s)) => format!(
                "its own policies allow it only under the condition of {}, which the records cannot show held",
                at(s)
            ),
            RefusedBy::Condition(None) => {
                "its own policies allow it only under conditions (or a conditional Deny applies) that the records cannot show".into()
            }
            RefusedBy::Outside(o) => {
                let which = o.name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default();
                let org = o
                    .org
                    .as_ref()
                    .map(|r| format!(" ({})", r.describe()))
                    .unwrap_or_default();
                let text = match o.policy {
                    Some(t) if t.is_own() => format!(
                        "the refusal names {}{which}, which the snapshot allows: the policies changed during the window, or a condition did not hold",
                        t.describe()
                    ),
                    Some(t) => format!("outside the snapshot: {}{which}", t.describe()),
                    None => "something outside the snapshot: an SCP, RCP, resource, session or VPC endpoint policy".into(),
                };
                text + &org
            }
        }
    }
}

/// `policy-label, statement label` of a statement of the principal.
pub fn statement_label(p: &Principal, at: StmtRef) -> String {
    let pol = match at.policy {
        PolicyRef::Identity(i) => p.policies.get(i).map(|x| x.source.label()),
        // The boundary's label says it is one.
        PolicyRef::Boundary => p.boundary.as_ref().map(|b| b.source.label()),
    };
    let st = crate::policy::grants::statement(p, at).map(|s| s.label());
    format!(
        "{}, statement {}",
        pol.unwrap_or_default(),
        st.unwrap_or_default()
    )
}

/// What decides the refusals a principal's own policies do not explain: the
/// seam for policies outside the snapshot (organization SCPs and RCPs,
/// resource policies). The default reads the refusal messages only.
pub trait OutsideEvidence: Sync {
    /// Who outside the snapshot refused `id` for `p` (whose grants are `g`)
    /// on `resources` (the named resources of the refusals, possibly none),
    /// given the policy type the refusal messages named most (`named`).
    fn refusal(
        &self,
        p: &Principal,
        g: &EffectiveGrants,
        id: ActionId,
        resources: &[&str],
        named: Option<PolicyType>,
    ) -> OutsideRefusal {
        let _ = (p, g, id, resources);
        OutsideRefusal {
            policy: named,
            ..OutsideRefusal::default()
        }
    }
}

/// [`OutsideEvidence`] from the refusal messages alone.
pub struct MessagesOnly;

impl OutsideEvidence for MessagesOnly {}

/// How the calls that neither succeeded nor were refused ended, by the
/// error-code rules (`usage::Outcome`), with counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    /// Authorized, then failed.
    pub failed: u64,
    /// Likely authorized, then failed.
    pub failed_likely: u64,
    pub dry_run: u64,
    /// Nothing about authorization (unknown codes among them).
    pub error: u64,
}

impl Failures {
    /// Calls that passed authorization (dry runs included).
    pub fn after_authorization(&self) -> u64 {
        self.failed + self.failed_likely + self.dry_run
    }

    /// Per outcome name, the counts that are not zero.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            ("failed", self.failed),
            ("failed-likely", self.failed_likely),
            ("dry-run", self.dry_run),
            ("error", self.error),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
    }
}

/// The resources of `sample` that the principal's own policies are asked
/// about for `id`: ARNs of one of the action's resource types, less a name
/// the sample also holds in full (a secret called by name and by ARN).
///
/// Only the sample, even when the records named more resources than it
/// keeps (and a summary covers them): this cannot make a wrong "unused".
/// [`decide`] makes any success `used` and any authorized failure
/// `used-failed` whatever this check says; the check only labels a use
/// (granted, partly, "used without grant", who refused) and tells a
/// likely-authorized failure (`used-failed` when granted on the sample)
/// from an attempt (`attempted`), and `recommend` keeps both, on today's
/// resources for the attempt. [`super::PrincipalVerdicts::verdict_on`]
/// counts a full sample as having maybe named any resource. What may be
/// wrong past the sample is a label (a partial grant shown as full, or
/// none), never a removal; `recommend` narrows with the summary itself.
pub fn named<'a>(cat: &Catalog, id: ActionId, sample: &'a ResourceSample) -> Vec<&'a str> {
    if cat.action(id).resource_types.is_empty() {
        return Vec::new();
    }
    sample
        .iter()
        .filter(|r| r.starts_with("arn:") && names_resource_of(cat, id, r))
        .filter(|r| {
            !sample
                .iter()
                .any(|full| crate::policy::named::completes(r, full))
        })
        .collect()
}

/// The grant decision for action `id` of principal `p` on the resources of
/// `sample` (a list of records' resources), from the statements that
/// contribute to the action.
pub fn check_grant(
    cat: &Catalog,
    p: &Principal,
    g: &EffectiveGrants,
    id: ActionId,
    sample: &ResourceSample,
) -> GrantCheck {
    let resources = named(cat, id, sample);
    if resources.is_empty() {
        return check_action(p, g, id);
    }
    let (mut yes, mut cond) = (0, 0);
    let mut statements: Vec<StmtRef> = Vec::new();
    let mut not_granted = Vec::new();
    let mut own_refusal = None;
    for r in resources {
        let (decision, allows) = own_decision(p, g, id, r);
        for at in allows {
            if !statements.contains(&at) {
                statements.push(at);
            }
        }
        match decision {
            OwnDecision::Allow { conditional } => {
                if conditional {
                    cond += 1;
                } else {
                    yes += 1;
                }
            }
            refused => {
                not_granted.push(r.to_string());
                if own_refusal.is_none() {
                    own_refusal = Some(match refused {
                        OwnDecision::ExplicitDeny(at) => RefusedBy::OwnDeny(at),
                        OwnDecision::NotResource(at) => RefusedBy::NotResource(at),
                        OwnDecision::Boundary => RefusedBy::Boundary,
                        OwnDecision::ConditionUnmet(at) => RefusedBy::ConditionUnmet(at),
                        _ => RefusedBy::NoGrant,
                    });
                }
            }
        }
    }
    let granted = match (not_granted.is_empty(), yes + cond) {
        (true, _) if cond > 0 => Grant::Conditional,
        (true, _) => Grant::Yes,
        (false, 0) => Grant::No,
        (false, _) => Grant::Partly,
    };
    GrantCheck {
        granted,
        not_granted: not_granted.into(),
        no_resource: false,
        statements: statements.into(),
        own_refusal: own_refusal.map(Box::new),
    }
}

/// [`check_grant`] when no resource of the action was named: per action.
fn check_action(p: &Principal, g: &EffectiveGrants, id: ActionId) -> GrantCheck {
    let statements: Vec<StmtRef> = g
        .reasons(id)
        .filter(|c| c.effect == Effect::Allow && c.at.policy != PolicyRef::Boundary)
        .map(|c| c.at)
        .collect();
    let (granted, own_refusal) = if g.granted.contains(id) {
        let cond = g.conditional.contains(id) || g.partially_denied.contains(id);
        (if cond { Grant::Conditional } else { Grant::Yes }, None)
    } else if g.denied.contains(id) {
        let deny = g
            .reasons(id)
            .find(|c| c.effect == Effect::Deny && !c.conditional)
            .map(|c| c.at);
        (
            Grant::No,
            Some(deny.map_or(RefusedBy::NoGrant, RefusedBy::OwnDeny)),
        )
    } else if g.outside_boundary.contains(id) {
        (Grant::No, Some(RefusedBy::Boundary))
    } else if g.blocked_by_org.contains(id) {
        // Its own policies grant it; an SCP blocks it: not theirs to refuse.
        (Grant::Yes, None)
    } else {
        let _ = p;
        (Grant::No, Some(RefusedBy::NoGrant))
    };
    GrantCheck {
        granted,
        not_granted: Box::default(),
        no_resource: true,
        statements: statements.into(),
        own_refusal: own_refusal.map(Box::new),
    }
}

/// Who refused the refusals of `stats` (action `id`, whose grant decision
/// for their resources is `check`): the principal's own policies when they
/// do not allow a named resource, else a condition of theirs, else what
/// `outside` says (by default, the policy type the messages named most).
pub fn refused_by(
    p: &Principal,
    g: &EffectiveGrants,
    id: ActionId,
    stats: &ActionStats,
    check: &GrantCheck,
    outside: &dyn OutsideEvidence,
) -> RefusedBy {
    if let Some(r) = &check.own_refusal {
        return (**r).clone();
    }
    let named = stats
        .refused_by
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .and_then(|(t, _)| PolicyType::parse(t));
    if check.granted == Grant::Conditional && named.is_none_or(PolicyType::is_own) {
        return RefusedBy::Condition(check.statements.first().copied());
    }
    let resources: Vec<&str> = stats.resources.iter().collect();
    RefusedBy::Outside(Box::new(outside.refusal(p, g, id, &resources, named)))
}

/// The evidence of one principal and action: a list of records per kind
/// of outcome, each with the grant decision for its resources.
#[derive(Clone, Copy, Debug, Default)]
pub struct Evidence<'a> {
    /// Successes.
    pub used: Option<&'a GrantCheck>,
    /// Calls that neither succeeded nor were refused.
    pub failed: Option<(&'a Failures, &'a GrantCheck)>,
    /// Refusals, and who refused them.
    pub denied: Option<&'a RefusedBy>,
}

/// The verdict of one principal and action that the records show, or
/// `None` when they do not (then it is unused, unobservable or not granted,
/// which depends on the grants alone: [`super::PrincipalVerdicts::verdict`]).
pub fn decide(e: Evidence<'_>) -> Option<Verdict> {
    if e.used.is_some() {
        return Some(Verdict::Used);
    }
    if let Some((f, check)) = e.failed {
        // A likely-authorized failure proves nothing on its own: it keeps a
        // granted action, it never makes a use without grant.
        let likely = f.failed_likely > 0 && check.granted.granted();
        return Some(if f.failed + f.dry_run > 0 || likely {
            Verdict::UsedFailed
        } else {
            Verdict::Attempted
        });
    }
    e.denied.map(|r| Verdict::Denied(r.clone()))
}

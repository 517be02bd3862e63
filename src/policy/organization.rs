//! Service and resource control policies as AWS Organizations applies them.
//!
//! - An SCP limits the principals of member accounts: a request needs an
//!   Allow in the SCPs attached at **every** level of the account's path
//!   (root, each OU, the account itself), and a Deny at any level wins. The
//!   management account's principals and service-linked roles are not
//!   limited. (AWS Organizations User Guide, "SCP evaluation".)
//! - An RCP limits access to the resources of member accounts, by anyone,
//!   in the same way, for the services that support RCPs; not the
//!   management account's resources, not AWS managed KMS keys, not
//!   service-linked roles. (AWS Organizations User Guide, "Resource control
//!   policies (RCPs)".)
//!
//! Two questions, as in `grants` and `request`: over the whole catalog,
//! [`OrgEval::decision`] gives per account (and per the few principal
//! conditions an SCP has) the actions blocked and limited, computed once
//! with bitsets and shared by every principal that meets the same
//! conditions; for one request, [`evaluate_request`] gives the decision and
//! the statements that make it.
//!
//! Statements that depend on the resource or on conditions not known
//! before a request (Region, source IP, tags) never block: they *limit*, and
//! say so. Only an unconditional Deny on every resource, or a level with no
//! Allow at all, blocks.

use super::caller::{Caller, CallerKind};
use super::condition::{evaluate_known, Context, Truth};
use super::grants::{statement_actions, Expander};
use super::request::{statement_matches, Decision, Request};
use crate::catalog::{ActionId, ActionSet, Catalog};
use crate::model::{Effect, OrgPolicyKind, Organization};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Services whose resources RCPs apply to (AWS Organizations User Guide,
/// "List of AWS services that support RCPs").
pub const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "kms",
    "sqs",
    "secretsmanager",
    "cognito-identity",
    "logs",
    "dynamodb",
    "ecr",
    "aoss",
];

/// Why organization policies of a kind do not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Exempt {
    /// The policy type is not enabled in the organization.
    NotEnabled,
    /// SCPs: the principal's account is the management account; RCPs: the
    /// resource's account is.
    ManagementAccount,
    /// The account is not in the organization the snapshot describes.
    OutsideOrganization,
    /// A service-linked role (`/aws-service-role/`).
    ServiceLinkedRole,
    /// SCPs limit only IAM principals of member accounts.
    NotAnIamPrincipal,
    /// RCPs: the service does not support RCPs.
    ServiceNotCovered,
    /// RCPs: an AWS managed KMS key.
    AwsManagedKey,
}

impl Exempt {
    pub fn describe(self) -> &'static str {
        match self {
            Exempt::NotEnabled => "the policy type is not enabled in the organization",
            Exempt::ManagementAccount => "the management account is not affected",
            Exempt::OutsideOrganization => "the account is not in the organization",
            Exempt::ServiceLinkedRole => "service-linked roles are not affected",
            Exempt::NotAnIamPrincipal => "only IAM principals of member accounts are affected",
            Exempt::ServiceNotCovered => "the service does not support RCPs",
            Exempt::AwsManagedKey => "AWS managed keys are not affected",
        }
    }
}

/// Why an organization policy decides: a statement, or a level of the
/// account's path where nothing allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgReason {
    pub kind: OrgPolicyKind,
    /// The root, OU or account the policy is attached to, as `Name (id)`.
    pub target: String,
    pub what: OrgReasonKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgReasonKind {
    /// A statement of a policy.
    Statement {
        policy_id: String,
        policy_name: String,
        statement: String,
        effect: Effect,
        /// `false` when it holds only under conditions or for some resources.
        certain: bool,
    },
    /// No policy attached at the level allows (the ids of those attached).
    NoAllow { attached: Vec<(String, String)> },
}

impl OrgReason {
    /// The policy's `(name, id)`, when a statement decides.
    pub fn policy(&self) -> Option<(&str, &str)> {
        match &self.what {
            OrgReasonKind::Statement {
                policy_id,
                policy_name,
                ..
            } => Some((policy_name, policy_id)),
            OrgReasonKind::NoAllow { .. } => None,
        }
    }

    /// A short label for evaluator tests: `scp:Name:Sid`, or
    /// `scp:no-allow:<target id>`; uncertain ones end in `?`.
    pub fn label(&self) -> String {
        let k = match self.kind {
            OrgPolicyKind::Scp => "scp",
            OrgPolicyKind::Rcp => "rcp",
        };
        match &self.what {
            OrgReasonKind::Statement {
                policy_name,
                statement,
                certain,
                ..
            } => format!(
                "{k}:{policy_name}:{statement}{}",
                if *certain { "" } else { "?" }
            ),
            OrgReasonKind::NoAllow { .. } => {
                let id = self
                    .target
                    .rsplit_once(" (")
                    .map_or(self.target.as_str(), |(_, id)| id.trim_end_matches(')'));
                format!("{k}:no-allow:{id}")
            }
        }
    }
}

impl std::fmt::Display for OrgReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let k = self.kind.as_str();
        match &self.what {
            OrgReasonKind::Statement {
                policy_id,
                policy_name,
                statement,
                effect,
                certain,
            } => write!(
                f,
                "{k} `{policy_name}` ({policy_id}) on {}, statement {statement} ({}{})",
                self.target,
                effect.as_str(),
                if *certain {
                    ""
                } else {
                    ", under conditions or for some resources"
                }
            ),
            OrgReasonKind::NoAllow { attached } => {
                if attached.is_empty() {
                    write!(f, "no {k} attached to {} allows it", self.target)
                } else {
                    write!(
                        f,
                        "no {k} attached to {} allows it (attached: {})",
                        self.target,
                        attached
                            .iter()
                            .map(|(n, id)| format!("`{n}` ({id})"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            }
        }
    }
}

/// One statement of an organization policy, expanded over the catalog.
#[derive(Clone, Debug)]
struct Compiled {
    /// Index into `Organization::policies`.
    policy: usize,
    statement: usize,
    effect: Effect,
    actions: Arc<ActionSet>,
    all_resources: bool,
    has_conditions: bool,
    /// Stands for a policy whose content is unknown: applies with an
    /// unknown truth, to every action.
    unknown: bool,
}

/// The statement label of a policy whose content is unknown.
const UNKNOWN_CONTENT: &str = "(content unknown)";

/// The policies of one kind along one account's path.
#[derive(Debug)]
struct CompiledPath {
    /// Per level, root first: its target id and statements; `None` when
    /// nothing of this kind is attached (AWS never allows that: the
    /// snapshot is incomplete there, and the level is taken as allowing).
    levels: Vec<(String, Option<Vec<Compiled>>)>,
}

impl CompiledPath {
    fn statements(&self) -> impl Iterator<Item = &Compiled> {
        self.levels.iter().flat_map(|(_, s)| s.iter().flatten())
    }
}

/// What the organization policies of one kind do to the whole catalog for
/// one account and one set of principal conditions.
#[derive(Debug)]
pub struct KindDecision {
    pub kind: OrgPolicyKind,
    pub account: String,
    path: Arc<CompiledPath>,
    /// Per statement of `path` (in `statements()` order): does it apply to
    /// the principal (`True`), not (`False`), or under conditions not known.
    truths: Vec<Truth>,
    /// Never allowed: an unconditional Deny on every resource, or a level
    /// with no Allow that could apply.
    pub blocked: ActionSet,
    /// Allowed only under conditions or for some resources, or denied so.
    pub limited: ActionSet,
}

impl KindDecision {
    /// Every statement along the path with the level it is attached to and
    /// whether it applies to the principal.
    fn applicable(&self) -> Vec<(&str, &Compiled, Truth)> {
        let mut out = Vec::new();
        let mut i = 0;
        for (target, stmts) in &self.path.levels {
            for c in stmts.iter().flatten() {
                out.push((target.as_str(), c, self.truths[i]));
                i += 1;
            }
        }
        out
    }

    /// Deny statements that apply to `id` for this principal (conditions
    /// known to hold or unknown), with whether they are certain and reach
    /// every resource.
    pub fn denies(&self, id: ActionId) -> Vec<DenyRef> {
        self.applicable()
            .into_iter()
            .filter(|(_, c, t)| {
                c.effect == Effect::Deny && *t != Truth::False && c.actions.contains(id)
            })
            .map(|(target, c, t)| DenyRef {
                policy: c.policy,
                statement: c.statement,
                target: target.to_string(),
                certain: t == Truth::True,
                all_resources: c.all_resources,
            })
            .collect()
    }

    /// The reasons `id` is blocked or limited: the Deny statements that
    /// apply, and the levels where nothing (or only a conditional or
    /// resource-limited statement) allows it.
    pub fn reasons(&self, org: &Organization, id: ActionId) -> Vec<OrgReason> {
        let all = self.applicable();
        let mut out: Vec<OrgReason> = all
            .iter()
            .filter(|(_, c, t)| {
                c.effect == Effect::Deny && *t != Truth::False && c.actions.contains(id)
            })
            .map(|(target, c, t)| {
                reason(
                    org,
                    self.kind,
                    target,
                    c,
                    *t == Truth::True && c.all_resources,
                )
            })
            .collect();
        for (target, stmts) in &self.path.levels {
            if stmts.is_none() {
                continue;
            }
            let allows: Vec<&(&str, &Compiled, Truth)> = all
                .iter()
                .filter(|(t, c, truth)| {
                    t == target
                        && c.effect == Effect::Allow
                        && *truth != Truth::False
                        && c.actions.contains(id)
                })
                .collect();
            if allows.is_empty() {
                out.push(no_allow(org, self.kind, target));
            } else if !allows
                .iter()
                .any(|(_, c, t)| *t == Truth::True && c.all_resources)
            {
                out.extend(
                    allows
                        .iter()
                        .map(|(target, c, _)| reason(org, self.kind, target, c, false)),
                );
            }
        }
        out
    }
}

/// A Deny statement of an organization policy that applies to an action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyRef {
    /// Index into `Organization::policies`.
    pub policy: usize,
    pub statement: usize,
    pub target: String,
    pub certain: bool,
    pub all_resources: bool,
}

fn reason(
    org: &Organization,
    kind: OrgPolicyKind,
    target: &str,
    c: &Compiled,
    certain: bool,
) -> OrgReason {
    let p = &org.policies[c.policy];
    OrgReason {
        kind,
        target: org.target_label(target),
        what: OrgReasonKind::Statement {
            policy_id: p.id.clone(),
            policy_name: p.name.clone(),
            statement: if c.unknown {
                UNKNOWN_CONTENT.to_string()
            } else {
                p.document
                    .statements
                    .get(c.statement)
                    .map_or_else(|| format!("#{}", c.statement), |s| s.label())
            },
            effect: c.effect,
            certain,
        },
    }
}

fn no_allow(org: &Organization, kind: OrgPolicyKind, target: &str) -> OrgReason {
    OrgReason {
        kind,
        target: org.target_label(target),
        what: OrgReasonKind::NoAllow {
            attached: org
                .attached(target, kind)
                .map(|p| (p.name.clone(), p.id.clone()))
                .collect(),
        },
    }
}

/// An account, a policy kind and the truth of each conditional statement
/// for a principal: principals with equal keys share one decision.
type DecisionKey = (String, OrgPolicyKind, Vec<Truth>);

/// SCPs and RCPs of one organization over the catalog, compiled per account
/// on first use and shared.
pub struct OrgEval<'o> {
    pub org: &'o Organization,
    cat: &'o Catalog,
    paths: Mutex<HashMap<(String, OrgPolicyKind), Arc<CompiledPath>>>,
    decisions: Mutex<HashMap<DecisionKey, Arc<KindDecision>>>,
    expander: Mutex<Expander<'o>>,
}

/// Whether the organization policies of a kind apply to a caller (SCPs) or
/// to a resource account (RCPs), and if so, what they decide.
#[derive(Clone, Debug)]
pub enum Applies {
    No(Exempt),
    Yes(Arc<KindDecision>),
}

impl<'o> OrgEval<'o> {
    pub fn new(cat: &'o Catalog, org: &'o Organization) -> OrgEval<'o> {
        OrgEval {
            org,
            cat,
            paths: Mutex::default(),
            decisions: Mutex::default(),
            expander: Mutex::new(Expander::new(cat)),
        }
    }

    fn path(&self, account: &str, kind: OrgPolicyKind) -> Arc<CompiledPath> {
        let key = (account.to_string(), kind);
        // A poisoned lock only means another thread panicked; the map holds.
        if let Some(p) = self
            .paths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return p.clone();
        }
        let mut ex = self.expander.lock().unwrap_or_else(|e| e.into_inner());
        let levels = self
            .org
            .path(account)
            .unwrap_or_default()
            .into_iter()
            .map(|target| {
                let attached: Vec<_> = self
                    .org
                    .policies
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.kind == kind && p.targets.contains(&target))
                    .collect();
                if attached.is_empty() {
                    return (target, None);
                }
                let mut stmts = Vec::new();
                for (pi, p) in attached {
                    if p.content_unknown {
                        // It may allow everything and may deny everything:
                        // both, with an unknown truth, so that what it could
                        // block reads as limited, never as cleared or blocked.
                        for effect in [Effect::Allow, Effect::Deny] {
                            stmts.push(Compiled {
                                policy: pi,
                                statement: usize::MAX,
                                effect,
                                actions: Arc::new(ActionSet::full(self.cat)),
                                all_resources: true,
                                has_conditions: false,
                                unknown: true,
                            });
                        }
                        continue;
                    }
                    for (si, st) in p.document.statements.iter().enumerate() {
                        let (actions, all_resources) = statement_actions(self.cat, &mut ex, st);
                        stmts.push(Compiled {
                            policy: pi,
                            statement: si,
                            effect: st.effect,
                            actions,
                            all_resources,
                            has_conditions: !st.conditions.is_empty(),
                            unknown: false,
                        });
                    }
                }
                (target, Some(stmts))
            })
            .collect();
        let compiled = Arc::new(CompiledPath { levels });
        self.paths
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, compiled.clone());
        compiled
    }

    /// The SCPs and RCPs (of its own account's resources) for a principal
    /// of the snapshot.
    pub fn grants_for(&self, p: &crate::model::Principal) -> super::grants::OrgGrants {
        let caller = Caller::of_principal(p, Some(self.org));
        let rcp = match caller.account.as_deref() {
            Some(a) => self.rcp(&caller, a),
            None => Applies::No(Exempt::OutsideOrganization),
        };
        super::grants::OrgGrants {
            scp: self.scp(&caller),
            rcp,
        }
    }

    /// Whether SCPs limit `caller`, and what they decide over the catalog.
    pub fn scp(&self, caller: &Caller) -> Applies {
        if !self.org.scp_enabled {
            return Applies::No(Exempt::NotEnabled);
        }
        if !matches!(
            caller.kind,
            CallerKind::User | CallerKind::Role | CallerKind::Account
        ) {
            return Applies::No(Exempt::NotAnIamPrincipal);
        }
        if caller.service_linked {
            return Applies::No(Exempt::ServiceLinkedRole);
        }
        let Some(acct) = caller.account.as_deref() else {
            return Applies::No(Exempt::OutsideOrganization);
        };
        if self.org.is_management(acct) {
            return Applies::No(Exempt::ManagementAccount);
        }
        if !self.org.accounts.contains_key(acct) {
            return Applies::No(Exempt::OutsideOrganization);
        }
        Applies::Yes(self.decide(acct, OrgPolicyKind::Scp, caller))
    }

    /// Whether RCPs limit access by `caller` to resources of
    /// `resource_account`, and what they decide over the catalog (the
    /// services RCPs do not cover are left out of both sets).
    pub fn rcp(&self, caller: &Caller, resource_account: &str) -> Applies {
        if !self.org.rcp_enabled {
            return Applies::No(Exempt::NotEnabled);
        }
        if caller.service_linked {
            return Applies::No(Exempt::ServiceLinkedRole);
        }
        if self.org.is_management(resource_account) {
            return Applies::No(Exempt::ManagementAccount);
        }
        if !self.org.accounts.contains_key(resource_account) {
            return Applies::No(Exempt::OutsideOrganization);
        }
        Applies::Yes(self.decide(resource_account, OrgPolicyKind::Rcp, caller))
    }

    fn decide(&self, account: &str, kind: OrgPolicyKind, caller: &Caller) -> Arc<KindDecision> {
        let path = self.path(account, kind);
        let ctx = caller.context();
        let truths: Vec<Truth> = path
            .statements()
            .map(|c| {
                if c.unknown {
                    return Truth::Unknown;
                }
                if !c.has_conditions {
                    return Truth::True;
                }
                let st = &self.org.policies[c.policy].document.statements[c.statement];
                evaluate_known(&st.conditions, &ctx, &|k| caller.decidable(k))
            })
            .collect();
        let key = (account.to_string(), kind, truths.clone());
        if let Some(d) = self
            .decisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return d.clone();
        }
        let cat = self.cat;
        let mut allowed_sure = ActionSet::full(cat);
        let mut allowed_maybe = ActionSet::full(cat);
        let mut denied_sure = ActionSet::empty(cat);
        let mut denied_maybe = ActionSet::empty(cat);
        let mut i = 0;
        for (_, stmts) in &path.levels {
            let Some(stmts) = stmts else { continue };
            let mut sure = ActionSet::empty(cat);
            let mut maybe = ActionSet::empty(cat);
            for c in stmts {
                let t = truths[i];
                i += 1;
                if t == Truth::False {
                    continue;
                }
                let certain = t == Truth::True && c.all_resources;
                match (c.effect, certain) {
                    (Effect::Allow, true) => {
                        sure.union_with(&c.actions);
                        maybe.union_with(&c.actions);
                    }
                    (Effect::Allow, false) => maybe.union_with(&c.actions),
                    (Effect::Deny, true) => denied_sure.union_with(&c.actions),
                    (Effect::Deny, false) => denied_maybe.union_with(&c.actions),
                }
            }
            allowed_sure.intersect_with(&sure);
            allowed_maybe.intersect_with(&maybe);
        }
        let mut blocked = allowed_maybe.complement();
        blocked.union_with(&denied_sure);
        let mut limited = allowed_maybe.clone();
        limited.subtract(&allowed_sure);
        limited.union_with(&denied_maybe);
        limited.subtract(&blocked);
        if kind == OrgPolicyKind::Rcp {
            let covered = rcp_services(cat);
            blocked.intersect_with(&covered);
            limited.intersect_with(&covered);
        }
        let d = Arc::new(KindDecision {
            kind,
            account: account.to_string(),
            path,
            truths,
            blocked,
            limited,
        });
        self.decisions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, d.clone());
        d
    }
}

/// The catalog actions of the services RCPs cover.
fn rcp_services(cat: &Catalog) -> ActionSet {
    let mut set = ActionSet::empty(cat);
    for s in RCP_SERVICES {
        set.union_with(&cat.expand(&format!("{s}:*")));
    }
    set
}

/// Whether RCPs can apply to a request for `action` on `resource`.
pub fn rcp_covers(action: &str, resource: &str) -> Result<(), Exempt> {
    let service = action.split(':').next().unwrap_or("").to_ascii_lowercase();
    if !RCP_SERVICES.contains(&service.as_str()) {
        return Err(Exempt::ServiceNotCovered);
    }
    if resource.contains(":alias/aws/") {
        return Err(Exempt::AwsManagedKey);
    }
    Ok(())
}

/// The organization policies' answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgResponse {
    pub kind: OrgPolicyKind,
    /// `Allow` also when the policies do not apply (see `exempt`).
    pub decision: Decision,
    pub exempt: Option<Exempt>,
    /// The statements (and levels without Allow) that decide.
    pub reasons: Vec<OrgReason>,
}

impl OrgResponse {
    fn exempt(kind: OrgPolicyKind, why: Exempt) -> OrgResponse {
        OrgResponse {
            kind,
            decision: Decision::Allow,
            exempt: Some(why),
            reasons: Vec::new(),
        }
    }
}

/// Evaluates the SCPs of the caller's account (`kind` Scp) or the RCPs of
/// the resource's account (`kind` Rcp) for one request. Conditions on keys
/// neither the caller nor the request's context tells are `Unknown`.
///
/// With `complete`, the request's context is the whole context: a key it
/// lacks is absent (as in the evaluator corpus and for a logged request).
pub fn evaluate_request(
    org: &Organization,
    kind: OrgPolicyKind,
    caller: &Caller,
    resource_account: Option<&str>,
    req: &Request,
    complete: bool,
) -> OrgResponse {
    if !org.is_enabled(kind) {
        return OrgResponse::exempt(kind, Exempt::NotEnabled);
    }
    if caller.service_linked {
        return OrgResponse::exempt(kind, Exempt::ServiceLinkedRole);
    }
    let account = match kind {
        OrgPolicyKind::Scp => {
            if !matches!(
                caller.kind,
                CallerKind::User | CallerKind::Role | CallerKind::Account
            ) {
                return OrgResponse::exempt(kind, Exempt::NotAnIamPrincipal);
            }
            caller.account.as_deref()
        }
        OrgPolicyKind::Rcp => {
            if let Err(e) = rcp_covers(&req.action, &req.resource) {
                return OrgResponse::exempt(kind, e);
            }
            resource_account
        }
    };
    let Some(account) = account else {
        return OrgResponse::exempt(kind, Exempt::OutsideOrganization);
    };
    if org.is_management(account) {
        return OrgResponse::exempt(kind, Exempt::ManagementAccount);
    }
    let Some(path) = org.path(account) else {
        return OrgResponse::exempt(kind, Exempt::OutsideOrganization);
    };
    let mut ctx: Context = caller.context();
    for (k, v) in &req.context {
        ctx.insert(k.clone(), v.clone());
    }
    let decidable = |k: &str| complete || caller.decidable(k) || req.context.contains_key(k);
    let mut deny = Truth::False;
    let mut allow = Truth::True;
    let mut reasons = Vec::new();
    let mut allow_reasons = Vec::new();
    for target in &path {
        let attached: Vec<_> = org.attached(target, kind).collect();
        if attached.is_empty() {
            continue;
        }
        let mut level = Truth::False;
        let mut level_reasons = Vec::new();
        for p in &attached {
            if p.content_unknown {
                // Unknown content: it may deny, and it may be the allow.
                let r = |effect| OrgReason {
                    kind,
                    target: org.target_label(target),
                    what: OrgReasonKind::Statement {
                        policy_id: p.id.clone(),
                        policy_name: p.name.clone(),
                        statement: UNKNOWN_CONTENT.to_string(),
                        effect,
                        certain: false,
                    },
                };
                deny = or(deny, Truth::Unknown);
                reasons.push(r(Effect::Deny));
                level = or(level, Truth::Unknown);
                level_reasons.push(r(Effect::Allow));
                continue;
            }
            for st in &p.document.statements {
                if !statement_matches(st, &req.action, &req.resource) {
                    continue;
                }
                let t = evaluate_known(&st.conditions, &ctx, &decidable);
                if t == Truth::False {
                    continue;
                }
                let r = OrgReason {
                    kind,
                    target: org.target_label(target),
                    what: OrgReasonKind::Statement {
                        policy_id: p.id.clone(),
                        policy_name: p.name.clone(),
                        statement: st.label(),
                        effect: st.effect,
                        certain: t == Truth::True,
                    },
                };
                match st.effect {
                    Effect::Deny => {
                        deny = or(deny, t);
                        reasons.push(r);
                    }
                    Effect::Allow => {
                        level = or(level, t);
                        level_reasons.push(r);
                    }
                }
            }
        }
        if level == Truth::False {
            allow_reasons.push(no_allow(org, kind, target));
        } else {
            allow_reasons.extend(level_reasons);
        }
        allow = allow.and(level);
    }
    let decision = match (deny, allow) {
        (Truth::True, _) => Decision::ExplicitDeny,
        (_, Truth::False) => Decision::ImplicitDeny,
        (Truth::False, Truth::True) => Decision::Allow,
        _ => Decision::Unknown,
    };
    // Keep the reasons that explain the decision.
    match decision {
        Decision::ExplicitDeny => {
            reasons.retain(|r| matches!(r.what, OrgReasonKind::Statement { certain: true, .. }))
        }
        Decision::ImplicitDeny => {
            reasons = allow_reasons
                .into_iter()
                .filter(|r| matches!(r.what, OrgReasonKind::NoAllow { .. }))
                .collect();
        }
        Decision::Allow => reasons = allow_reasons,
        Decision::Unknown => reasons.extend(allow_reasons),
    }
    OrgResponse {
        kind,
        decision,
        exempt: None,
        reasons,
    }
}

fn or(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::True, _) | (_, Truth::True) => Truth::True,
        (Truth::False, Truth::False) => Truth::False,
        _ => Truth::Unknown,
    }
}

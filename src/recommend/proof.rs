//! The proof that comes with every recommendation: the recommended policy,
//! evaluated by leastpriv's own engine in the principal's whole context,
//! (a) allows every used call on every resource its records named, and
//! (b) grants nothing that today's policies do not.
//!
//! The context is the principal as IAM will see it once the recommendation
//! is applied: the policies the recommendation replaces (a user's or role's
//! inline and attached managed policies; a group's policies, for each of its
//! members) are swapped for the recommended document; everything else stays
//! (the other policies and their Deny statements, the permissions boundary,
//! the SCPs of the principal's account, the RCPs and resource policies of the
//! resources named, a role's trust policy for `sts:` calls on it).
//!
//! The proof is derived from the verdicts, not from what `recommend` decided
//! to keep: it reads what was used again (`verdict`), and decides each call
//! with [`crate::policy::access::decide`], today and recommended, so that an
//! error in `recommend` shows as a failure here. "Allowed" is "allowed or
//! conditional" (a condition the records cannot show), as today's verdicts
//! count it; a used call the engine does not allow even today (the policies
//! changed since, a condition, a resource named without its full ARN) is not
//! the recommendation's doing: noted, never a failure.
//!
//! This module reads a finished audit and the recommendations; it writes
//! nothing and prints nothing.

use super::resources::ResourceSel;
use super::{Recommendation, Scope};
use crate::audit::{Audit, AuditedPrincipal};
use crate::catalog::{ActionId, ActionSet, Catalog};
use crate::model::resource::{arn_account, PolicyRole};
use crate::model::{
    AttachedPolicy, Condition, Effect, OrgPolicyKind, PolicyDocument, PolicySource, Principal,
    ResourceSpec, Statement,
};
use crate::policy::access::ResourcePolicyInput;
use crate::policy::access::{decide, AccessRequest, AccessResponse, IdentityInput};
use crate::policy::caller::Caller;
use crate::policy::condition::{evaluate_known, Context, Truth};
use crate::policy::grants::{
    apply_org, effective_grants, statement, statement_actions, statement_resources,
    EffectiveGrants, Expander, PolicyRef,
};
use crate::policy::request::{statement_matches, Decision, Request};
use crate::verdict::Verdict;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;
use std::sync::Arc;

/// What a failure of the proof is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureKind {
    /// A used call allowed today is not allowed by the recommended policy.
    UsedNotAllowed,
    /// The recommended policy allows an action on resources that today's
    /// replaced policies do not.
    WiderThanToday,
    /// A guardrail Deny the recommendation adds matches a used call.
    GuardrailDeniesUse,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::UsedNotAllowed => "used-not-allowed",
            FailureKind::WiderThanToday => "wider-than-today",
            FailureKind::GuardrailDeniesUse => "guardrail-denies-use",
        }
    }
}

/// One way the recommended policy fails its proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub action: String,
    /// The resource (or the recommended resource pattern); `None` when the
    /// records named none and the action was checked as a whole.
    pub resource: Option<String>,
    pub detail: String,
}

/// The proof of one recommendation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proof {
    pub passed: bool,
    /// Distinct used actions checked (used and used-failed verdicts,
    /// inferred `iam:PassRole` included).
    pub checked_used_actions: usize,
    /// Requests on a named resource decided (principal, action, resource).
    pub checked_resources: usize,
    pub failures: Vec<Failure>,
    /// What the evaluation included besides the recommended policy.
    pub context: Vec<String>,
    /// What was checked without failing but deserves a word: used calls the
    /// engine does not allow even today, calls allowed only conditionally.
    pub notes: Vec<String>,
}

/// Look-ups shared by every proof of a run.
pub struct Index<'a> {
    principals: HashMap<&'a str, &'a AuditedPrincipal>,
    /// (account, group) to the audited principals its policies grant.
    members: HashMap<(&'a str, &'a str), Vec<&'a AuditedPrincipal>>,
}

impl<'a> Index<'a> {
    pub fn new(audit: &'a Audit) -> Index<'a> {
        let mut principals = HashMap::new();
        let mut members: HashMap<(&str, &str), Vec<&AuditedPrincipal>> = HashMap::new();
        for ap in &audit.principals {
            let p = &ap.verdicts.principal;
            principals.insert(p.arn.as_str(), ap);
            let acct = arn_account(&p.arn).unwrap_or("");
            for g in &p.groups {
                if super::grants_members(p, g) {
                    members.entry((acct, g.as_str())).or_default().push(ap);
                }
            }
        }
        Index {
            principals,
            members,
        }
    }
}

/// Computes the proof of every recommendation and appends its section to
/// each `.diff.md`. Recommendations whose principal the audit does not hold
/// get none.
pub fn attach(audit: &Audit, recs: &mut [Recommendation]) {
    use rayon::prelude::*;
    let index = Index::new(audit);
    recs.par_iter_mut().for_each_init(
        || Expander::new(audit.catalog),
        |ex, r| {
            r.proof = prove(audit, &index, ex, r);
            if let Some(p) = &r.proof {
                // The diff ends with one newline.
                r.diff
                    .push_str(if r.diff.ends_with('\n') { "\n" } else { "\n\n" });
                r.diff.push_str(&markdown(p));
            }
        },
    );
}

/// The subject of a recommendation: the principals whose policies it
/// replaces, and which of their policies.
fn subject<'a>(
    index: &Index<'a>,
    r: &'a Recommendation,
) -> Option<(Scope<'a>, Vec<&'a AuditedPrincipal>)> {
    // A unit (permission set, role group): its policy replaces the role's
    // own policies in every account it is deployed in.
    if let Some(u) = &r.unit {
        let roles: Vec<&AuditedPrincipal> = u
            .accounts
            .iter()
            .filter_map(|a| a.role_arn.as_deref())
            .filter_map(|arn| index.principals.get(arn).copied())
            .collect();
        return (!roles.is_empty()).then_some((Scope::Own, roles));
    }
    match r.identity_type {
        super::IdentityType::User | super::IdentityType::Role => {
            let ap = index.principals.get(r.principal.as_str())?;
            Some((Scope::Own, vec![*ap]))
        }
        super::IdentityType::Group => {
            let acct = arn_account(&r.principal).unwrap_or("");
            let members = index.members.get(&(acct, r.name.as_str()))?;
            Some((Scope::Group(&r.name), members.clone()))
        }
    }
}

const RECOMMENDED: &str = "leastpriv-recommended";

/// `p` with the policies of `scope` replaced by `doc`.
fn replaced(p: &Principal, scope: Scope, doc: &Arc<PolicyDocument>) -> Principal {
    let mut n = p.clone();
    let at = n
        .policies
        .iter()
        .position(|a| scope.includes(&a.source))
        .unwrap_or(0);
    n.policies.retain(|a| !scope.includes(&a.source));
    let source = match scope {
        Scope::Own => PolicySource::Inline {
            policy_name: RECOMMENDED.into(),
        },
        Scope::Group(g) => PolicySource::GroupInline {
            group: g.to_string(),
            policy_name: RECOMMENDED.into(),
        },
    };
    n.policies.insert(
        at.min(n.policies.len()),
        AttachedPolicy {
            source,
            document: Arc::clone(doc),
        },
    );
    n
}

fn allowed(d: Decision) -> bool {
    matches!(d, Decision::Allow | Decision::Unknown)
}

/// Services whose resources can carry a resource-based policy: a resource
/// of one that the snapshot does not list has an unknown policy.
fn policy_service(service: &str) -> bool {
    crate::who_can::POLICY_SERVICES.contains(&service)
}

/// One principal's requests, today and recommended.
struct Evaluator<'a> {
    audit: &'a Audit,
    caller: Caller,
    today: Vec<&'a AttachedPolicy>,
    recommended: Vec<&'a AttachedPolicy>,
    boundary: Option<&'a AttachedPolicy>,
    account: Option<&'a str>,
    roles: &'a Index<'a>,
    /// Resource ARNs whose policy took part, for the context.
    resource_policies: BTreeSet<String>,
}

impl Evaluator<'_> {
    fn decide(
        &mut self,
        recommended: bool,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> AccessResponse {
        let service = resource.split(':').nth(2).unwrap_or("");
        let found = self
            .audit
            .resources
            .as_deref()
            .and_then(|r| r.find(resource));
        let trust = self
            .roles
            .principals
            .get(resource)
            .and_then(|ap| ap.verdicts.principal.trust_policy.as_ref())
            .filter(|_| action.starts_with("sts:"));
        let input = if let Some(t) = trust {
            ResourcePolicyInput::Policy(t, PolicyRole::TrustPolicy)
        } else if let Some(r) = found {
            match &r.document {
                Some(d) => {
                    self.resource_policies.insert(r.arn.clone());
                    ResourcePolicyInput::Policy(d, r.kind.policy_role())
                }
                None => ResourcePolicyInput::None,
            }
        } else if resource != "*" && policy_service(service) {
            ResourcePolicyInput::Unknown
        } else {
            ResourcePolicyInput::None
        };
        let resource_account = found
            .and_then(|r| r.account.as_deref())
            .or_else(|| arn_account(resource))
            .or(self.account);
        let mut context = ctx.clone();
        // A regional resource is called in its Region.
        if let Some(region) = resource.split(':').nth(3).filter(|r| !r.is_empty()) {
            context
                .entry("aws:requestedregion".into())
                .or_insert_with(|| vec![region.to_string()]);
        }
        let policies = if recommended {
            &self.recommended
        } else {
            &self.today
        };
        decide(&AccessRequest {
            caller: &self.caller,
            identity: IdentityInput {
                policies,
                boundary: self.boundary,
                known: true,
            },
            resource_account,
            resource_policy: input,
            org: self.audit.organization.as_deref(),
            request: &Request {
                action: action.to_string(),
                resource: resource.to_string(),
                context,
            },
            complete: false,
        })
    }
}

/// Why a request is refused, in words.
fn refusal(r: &AccessResponse) -> String {
    let mut parts = Vec::new();
    match r.decision {
        Decision::ExplicitDeny => {
            let by: Vec<String> = r
                .identity
                .iter()
                .filter(|x| x.effect == Effect::Deny)
                .map(|x| format!("{} statement `{}`", x.policy, x.statement))
                .chain(
                    r.resource
                        .iter()
                        .filter(|x| x.effect == Effect::Deny)
                        .map(|x| format!("resource policy statement `{}`", x.statement)),
                )
                .collect();
            parts.push(if by.is_empty() {
                "explicitly denied (an SCP or RCP)".to_string()
            } else {
                format!("explicitly denied by {}", by.join(", "))
            });
        }
        _ => parts.push("no statement allows it".to_string()),
    }
    for o in [&r.scp, &r.rcp].into_iter().flatten() {
        if o.decision != Decision::Allow {
            parts.push(format!(
                "{}: {}",
                o.kind.as_str(),
                o.reasons
                    .iter()
                    .map(|x| x.label())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    parts.extend(r.notes.iter().cloned());
    parts.join("; ")
}

/// The resources a used action's records named, for this action.
fn recorded(cat: &Catalog, ap: &AuditedPrincipal, id: ActionId, failed: bool) -> Vec<String> {
    let a = &ap.verdicts;
    let sample = if failed {
        a.failed_entry(id).map(|f| &f.stats.resources)
    } else {
        a.used_entry(id).map(|u| &u.stats.resources)
    };
    sample
        .map(|s| {
            crate::verdict::decide::named(cat, id, s)
                .into_iter()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The resources of a used action beyond those its sample named: when more
/// distinct resources were seen than the sample keeps, the patterns of the
/// summary of every resource (exact ARNs, or prefixes once widened) that
/// the sample does not hold, or (no complete summary) unknown: `any`.
/// `None` when the sample named every resource.
fn beyond_sample(
    cat: &Catalog,
    ap: &AuditedPrincipal,
    id: ActionId,
    failed: bool,
) -> Option<super::Requested> {
    let a = &ap.verdicts;
    let stats = if failed {
        a.failed_entry(id).map(|f| &f.stats)
    } else {
        a.used_entry(id).map(|u| &u.stats)
    }?;
    if !stats.resources_truncated || cat.action(id).resource_types.is_empty() {
        return None;
    }
    Some(match stats.summary.as_deref().filter(|s| s.is_complete()) {
        Some(sum) => super::Requested {
            named: Vec::new(),
            patterns: sum
                .patterns()
                .into_iter()
                .filter(|p| p.starts_with("arn:") && !stats.resources.contains(p))
                .collect(),
            any: false,
        },
        None => super::Requested {
            named: Vec::new(),
            patterns: Vec::new(),
            any: true,
        },
    })
}

/// Whether the action-level grants allow `id` (conditions included).
fn grants_allow(g: &EffectiveGrants, id: ActionId) -> bool {
    g.granted.contains(id)
}

/// Why the action-level grants do not allow `id`.
fn grant_refusal(g: &EffectiveGrants, id: ActionId) -> &'static str {
    if g.denied.contains(id) {
        "an explicit Deny covers it"
    } else if g.outside_boundary.contains(id) {
        "the permissions boundary does not allow it"
    } else if g.blocked_by_org.contains(id) {
        "an SCP blocks it"
    } else {
        "no statement allows it"
    }
}

/// The proof of one recommendation, or `None` when the audit does not hold
/// its principal.
pub fn prove(audit: &Audit, index: &Index, ex: &mut Expander, r: &Recommendation) -> Option<Proof> {
    prove_document(audit, index, ex, r, &r.document)
}

/// [`prove`] with `document` in place of the recommended one: a policy a
/// reviewer edited from it (`recommend --check --policies`), proved in the
/// same context against the same use and today's same grant.
pub fn prove_document(
    audit: &Audit,
    index: &Index,
    ex: &mut Expander,
    r: &Recommendation,
    document: &serde_json::Value,
) -> Option<Proof> {
    let cat = audit.catalog;
    let (scope, members) = subject(index, r)?;
    let mut proof = Proof::default();
    let doc = match crate::ingest::policy_json::parse_document(document, "recommended") {
        Ok(d) => Arc::new(d),
        Err(e) => {
            proof.failures.push(Failure {
                kind: FailureKind::UsedNotAllowed,
                action: "*".into(),
                resource: None,
                detail: format!("the recommended document does not parse: {e}"),
            });
            return Some(proof);
        }
    };
    proof.context = context(audit, scope, &members, r, document);
    proof.notes.push(
        "allowed means allowed or conditional (a condition the records cannot show), as today's verdicts count it".into(),
    );

    // The Deny statements the recommendation adds (guardrails): those of
    // the recommended document that no replaced policy holds.
    let mut kept = Vec::new();
    for m in &members {
        super::scope_denies(&m.verdicts.principal, scope, &mut kept);
    }
    let guardrails: Vec<&Statement> = doc
        .statements
        .iter()
        .filter(|s| s.effect == Effect::Deny && !kept.contains(&super::statement_json(s)))
        .collect();

    let mut actions: BTreeSet<ActionId> = BTreeSet::new();
    let mut not_today: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut conditional = 0usize;
    let mut resource_policies = BTreeSet::new();
    for ap in &members {
        let p = &ap.verdicts.principal;
        let today_g = &ap.verdicts.grants;
        let new_p = replaced(p, scope, &doc);
        let mut new_g = effective_grants(cat, ex, &new_p);
        if let Some(o) = &today_g.org {
            new_g = apply_org(new_g, o.clone());
        }
        let mut ev = Evaluator {
            audit,
            caller: Caller::of_principal(p, audit.organization.as_deref()),
            today: p.policies.iter().collect(),
            recommended: new_p.policies.iter().collect(),
            boundary: p.boundary.as_ref(),
            account: arn_account(&p.arn),
            roles: index,
            resource_policies: BTreeSet::new(),
        };
        let passed_roles = ap.verdicts.activity.as_ref().map(|a| &a.passed_roles);
        for d in &ap.verdicts.decided {
            let failed = match d.verdict {
                Verdict::Used => false,
                Verdict::UsedFailed => true,
                _ => continue,
            };
            let id = d.action;
            let action = cat.full_name(id);
            actions.insert(id);
            let resources = recorded(cat, ap, id, failed);
            let who = if r.unit.is_some() {
                format!(" (account `{}`)", arn_account(&p.arn).unwrap_or("?"))
            } else if members.len() > 1 {
                format!(" (member `{}`)", p.name)
            } else {
                String::new()
            };
            // Guardrails first: a call they hit is reported once, as theirs.
            let targets: Vec<&str> = if resources.is_empty() {
                vec!["*"]
            } else {
                resources.iter().map(String::as_str).collect()
            };
            let mut hit_by_guardrail: BTreeSet<&str> = BTreeSet::new();
            for g in &guardrails {
                for &t in &targets {
                    let matches = if resources.is_empty() {
                        // No resource named: the guardrail may deny the
                        // call whatever its resource element says.
                        statement_matches(g, &action, "*")
                            || matches!(
                                &g.resources,
                                ResourceSpec::Resource(_) | ResourceSpec::NotResource(_)
                            ) && action_matches(g, &action)
                    } else {
                        statement_matches(g, &action, t)
                    };
                    let ctx = ev.caller.context();
                    let caller = &ev.caller;
                    if matches
                        && evaluate_known(&g.conditions, &ctx, &|k| caller.decidable(k))
                            != Truth::False
                        && !hit_by_guardrail.contains(t)
                    {
                        hit_by_guardrail.insert(t);
                        proof.failures.push(Failure {
                            kind: FailureKind::GuardrailDeniesUse,
                            action: action.clone(),
                            resource: (!resources.is_empty()).then(|| t.to_string()),
                            detail: format!(
                                "added guardrail `{}` may deny this used call{who}",
                                g.label()
                            ),
                        });
                    }
                }
            }
            // Resources beyond the sample: a guardrail that may match one
            // the summary stands for may deny a use (conservatively: its
            // resource element could match some resource of the pattern).
            let beyond = beyond_sample(cat, ap, id, failed);
            if let (Some(b), true) = (&beyond, hit_by_guardrail.is_empty()) {
                let ctx = ev.caller.context();
                let caller = &ev.caller;
                let one = |p: &str| super::Requested {
                    named: Vec::new(),
                    patterns: vec![p.to_string()],
                    any: false,
                };
                for g in &guardrails {
                    if evaluate_known(&g.conditions, &ctx, &|k| caller.decidable(k)) == Truth::False
                    {
                        continue;
                    }
                    let hit = if b.any {
                        b.may_match(g, &action).then(|| "*".to_string())
                    } else {
                        b.patterns
                            .iter()
                            .find(|p| one(p).may_match(g, &action))
                            .cloned()
                    };
                    if let Some(pat) = hit {
                        proof.failures.push(Failure {
                            kind: FailureKind::GuardrailDeniesUse,
                            action: action.clone(),
                            resource: Some(pat),
                            detail: format!(
                                "added guardrail `{}` may deny this used call on a resource beyond the sample of {} named ({}){who}",
                                g.label(),
                                crate::usage::activity::RESOURCE_SAMPLES,
                                if b.any {
                                    "no complete summary of the others: any may be"
                                } else {
                                    "one the summary of every resource used stands for"
                                }
                            ),
                        });
                        hit_by_guardrail.insert("*");
                    }
                }
            }
            if resources.is_empty() {
                // Checked per action: the records named no resource of it.
                if !grants_allow(today_g, id) {
                    not_today
                        .entry(action.clone())
                        .or_default()
                        .push(format!("any resource{who}: {}", grant_refusal(today_g, id)));
                    continue;
                }
                if !grants_allow(&new_g, id) && hit_by_guardrail.is_empty() {
                    proof.failures.push(Failure {
                        kind: FailureKind::UsedNotAllowed,
                        action: action.clone(),
                        resource: None,
                        detail: format!(
                            "used{who} and granted today; the records name no resource, and with the recommended policy {}",
                            grant_refusal(&new_g, id)
                        ),
                    });
                }
                continue;
            }
            // The summary's patterns beyond the sample are decided as
            // resources too, the pattern's text as the resource: IAM's
            // wildcards match that text only where a statement's pattern
            // covers the summary's (a `*` matches its `*`, a letter does
            // not), so an Allow that leaves out part of it does not allow
            // it. Only a `?` facing its `*` over-matches; the summary's
            // patterns end in `*` after a delimiter, and `?` is rare in
            // policies.
            let summarized: Vec<String> = beyond
                .as_ref()
                .map(|b| b.patterns.clone())
                .unwrap_or_default();
            for pat in &summarized {
                if hit_by_guardrail.contains("*") {
                    break;
                }
                proof.checked_resources += 1;
                let ctx = Context::new();
                let new = ev.decide(true, &action, pat, &ctx);
                if new.decision == Decision::Allow {
                    continue;
                }
                let today = ev.decide(false, &action, pat, &ctx);
                if !allowed(today.decision) {
                    not_today
                        .entry(action.clone())
                        .or_default()
                        .push(format!("`{pat}` (summarized){who}: {}", refusal(&today)));
                    continue;
                }
                if new.decision == Decision::Unknown {
                    if today.decision == Decision::Allow {
                        conditional += 1;
                    }
                    continue;
                }
                proof.failures.push(Failure {
                    kind: FailureKind::UsedNotAllowed,
                    action: action.clone(),
                    resource: Some(pat.clone()),
                    detail: format!(
                        "used{who} past the sample of {} named (the summary of every resource used holds it), allowed today ({}); with the recommended policy: {}",
                        crate::usage::activity::RESOURCE_SAMPLES,
                        today.decision.as_str(),
                        refusal(&new)
                    ),
                });
            }
            for res in &resources {
                // `iam:PassRole`: one request per service the role was
                // passed to, so that `iam:PassedToService` is decided.
                let mut contexts: Vec<Context> = Vec::new();
                if Some(id) == audit.risk.passrole {
                    if let Some(pr) = passed_roles.and_then(|m| m.get(res)) {
                        for s in &pr.services {
                            contexts.push(Context::from([(
                                "iam:passedtoservice".to_string(),
                                vec![s.clone()],
                            )]));
                        }
                    }
                }
                if contexts.is_empty() {
                    contexts.push(Context::new());
                }
                for ctx in &contexts {
                    proof.checked_resources += 1;
                    let new = ev.decide(true, &action, res, ctx);
                    if new.decision == Decision::Allow {
                        continue;
                    }
                    let today = ev.decide(false, &action, res, ctx);
                    let service = ctx
                        .get("iam:passedtoservice")
                        .map(|s| format!(" passed to `{}`", s.join(", ")))
                        .unwrap_or_default();
                    if !allowed(today.decision) {
                        not_today
                            .entry(action.clone())
                            .or_default()
                            .push(format!("`{res}`{service}{who}: {}", refusal(&today)));
                        continue;
                    }
                    if new.decision == Decision::Unknown {
                        if today.decision == Decision::Allow {
                            conditional += 1;
                        }
                        continue;
                    }
                    if hit_by_guardrail.contains(res.as_str()) {
                        continue;
                    }
                    proof.failures.push(Failure {
                        kind: FailureKind::UsedNotAllowed,
                        action: action.clone(),
                        resource: Some(res.clone()),
                        detail: format!(
                            "used{service}{who} and allowed today ({}); with the recommended policy: {}",
                            today.decision.as_str(),
                            refusal(&new)
                        ),
                    });
                }
            }
        }
        resource_policies.append(&mut ev.resource_policies);
    }
    proof.checked_used_actions = actions.len();
    if !resource_policies.is_empty() {
        proof.context.push(format!(
            "resource policies: {}",
            resource_policies
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for (action, why) in &not_today {
        proof.notes.push(format!(
            "`{action}`: used, but not allowed today either by leastpriv's evaluation (the policies changed since the call, a condition or a resource name the records cannot show): not a failure of the recommendation; {}",
            why.join("; ")
        ));
    }
    if conditional > 0 {
        proof.notes.push(format!(
            "{conditional} used call(s) allowed today, and only conditionally by the recommended policy (a condition the records cannot show)"
        ));
    }

    // (b) Nothing today's replaced policies do not grant.
    if r.unit.is_some() {
        unit_wider(cat, ex, &members, &doc, &mut proof);
    } else {
        wider(cat, ex, members[0], scope, &doc, &mut proof.failures);
    }

    proof.passed = proof.failures.is_empty();
    Some(proof)
}

/// (b) for a unit: [`wider`] in each account. The unit's policy is by
/// design the union of its accounts' grants (what one account uses or keeps
/// is kept for all: the diff's "added here"), so a grant wider than one
/// account's today but within another's is a note naming both; a grant
/// wider than every account's today is a failure.
fn unit_wider(
    cat: &Catalog,
    ex: &mut Expander,
    members: &[&AuditedPrincipal],
    doc: &PolicyDocument,
    proof: &mut Proof,
) {
    let account = |m: &AuditedPrincipal| {
        arn_account(&m.verdicts.principal.arn)
            .unwrap_or("?")
            .to_string()
    };
    // (action, resource) to the first failure and the accounts it is wider in.
    let mut by: BTreeMap<(String, Option<String>), (Failure, Vec<String>)> = BTreeMap::new();
    for m in members {
        let mut out = Vec::new();
        wider(cat, ex, m, Scope::Own, doc, &mut out);
        for f in out {
            let e = by
                .entry((f.action.clone(), f.resource.clone()))
                .or_insert_with(|| (f, Vec::new()));
            e.1.push(account(m));
        }
    }
    let all: Vec<String> = members.iter().map(|m| account(m)).collect();
    // Notes grouped by the accounts they are wider in.
    let mut added: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for ((action, resource), (mut f, accts)) in by {
        if accts.len() == all.len() {
            f.detail = format!("{} (in every account of the unit)", f.detail);
            proof.failures.push(f);
        } else {
            added.entry(accts).or_default().push(format!(
                "`{action}`{}",
                resource.map(|r| format!(" on `{r}`")).unwrap_or_default()
            ));
        }
    }
    for (accts, grants) in added {
        let within: Vec<String> = all
            .iter()
            .filter(|a| !accts.contains(a))
            .map(|a| format!("`{a}`"))
            .collect();
        let shown: Vec<&String> = grants.iter().take(LIST_MAX).collect();
        proof.notes.push(format!(
            "wider than today in account(s) {} and within the grant of {}: the unit's one policy keeps what another account is granted (applying it adds this there): {}{}",
            accts
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", "),
            within.join(", "),
            shown
                .iter()
                .map(|g| g.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if grants.len() > shown.len() {
                format!(" and {} more", grants.len() - shown.len())
            } else {
                String::new()
            }
        ));
    }
}

fn action_matches(st: &Statement, action: &str) -> bool {
    use crate::catalog::wildcard_match;
    match &st.actions {
        crate::model::ActionSpec::Action(p) => p.iter().any(|p| wildcard_match(p, action)),
        crate::model::ActionSpec::NotAction(p) => !p.iter().any(|p| wildcard_match(p, action)),
    }
}

/// What the proof's evaluation included besides the recommended policy.
fn context(
    audit: &Audit,
    scope: Scope,
    members: &[&AuditedPrincipal],
    r: &Recommendation,
    document: &serde_json::Value,
) -> Vec<String> {
    let mut out = Vec::new();
    let replaced: Vec<String> = members
        .iter()
        .flat_map(|m| m.verdicts.principal.policies.iter())
        .filter(|a| scope.includes(&a.source))
        .map(|a| a.source.label())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    out.push(format!(
        "replaced by the recommended policy: {}",
        if replaced.is_empty() {
            "nothing (no policy of its own)".to_string()
        } else {
            replaced.join(", ")
        }
    ));
    if let Some(u) = &r.unit {
        let evaluated: BTreeSet<&str> = members
            .iter()
            .map(|m| m.verdicts.principal.arn.as_str())
            .collect();
        out.push(format!(
            "evaluated in each account, in place of its role's policies: {}",
            members
                .iter()
                .map(|m| format!(
                    "`{}` (`{}`)",
                    arn_account(&m.verdicts.principal.arn).unwrap_or("?"),
                    m.verdicts.principal.name
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let missing: Vec<String> = u
            .accounts
            .iter()
            .filter(|a| !a.role_arn.as_deref().is_some_and(|x| evaluated.contains(x)))
            .map(|a| format!("`{}`", a.account))
            .collect();
        if !missing.is_empty() {
            out.push(format!(
                "not evaluated (the role is not in the snapshot): {}",
                missing.join(", ")
            ));
        }
    } else if members.len() > 1 || r.identity_type == super::IdentityType::Group {
        out.push(format!(
            "evaluated for each member: {}",
            members
                .iter()
                .map(|m| format!("`{}`", m.verdicts.principal.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let kept: BTreeSet<String> = members
        .iter()
        .flat_map(|m| m.verdicts.principal.policies.iter())
        .filter(|a| !scope.includes(&a.source))
        .map(|a| a.source.label())
        .collect();
    if !kept.is_empty() {
        out.push(format!(
            "other policies kept: {}",
            kept.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let denies: usize = match document.get("Statement") {
        Some(serde_json::Value::Array(s)) => s.iter().filter(|x| x["Effect"] == "Deny").count(),
        Some(one) => usize::from(one["Effect"] == "Deny"),
        None => 0,
    };
    let other_denies: BTreeSet<(String, String)> = members
        .iter()
        .flat_map(|m| m.verdicts.principal.policies.iter())
        .filter(|a| !scope.includes(&a.source))
        .flat_map(|a| {
            a.document
                .statements
                .iter()
                .filter(|s| s.effect == Effect::Deny)
                .map(move |s| (a.source.label(), s.label()))
        })
        .collect();
    out.push(format!(
        "Deny statements: {denies} in the recommended policy, {} in the other policies",
        other_denies.len()
    ));
    let boundaries: BTreeSet<String> = members
        .iter()
        .filter_map(|m| m.verdicts.principal.boundary.as_ref())
        .map(|b| b.source.label())
        .collect();
    if !boundaries.is_empty() {
        out.push(format!(
            "permissions boundary: {}",
            boundaries.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(org) = audit.organization.as_deref() {
        let accounts: BTreeSet<&str> = members
            .iter()
            .filter_map(|m| arn_account(&m.verdicts.principal.arn))
            .collect();
        for kind in [OrgPolicyKind::Scp, OrgPolicyKind::Rcp] {
            if !org.is_enabled(kind) {
                continue;
            }
            let mut names: Vec<String> = Vec::new();
            for acct in &accounts {
                for target in org.path(acct).unwrap_or_default() {
                    for pol in org.attached(&target, kind) {
                        let n = format!("`{}`", pol.name);
                        if !names.contains(&n) {
                            names.push(n);
                        }
                    }
                }
            }
            if !names.is_empty() {
                let what = match kind {
                    OrgPolicyKind::Scp => "SCPs of the account",
                    OrgPolicyKind::Rcp => "RCPs of the account's resources",
                };
                out.push(format!("{what}: {}", names.join(", ")));
            }
        }
    }
    out
}

/// Whether every condition of `today` is also a condition of `rec`: an
/// Allow under more conditions grants no more.
fn conditions_within(today: &[Condition], rec: &[Condition]) -> bool {
    today.iter().all(|t| {
        rec.iter().any(|r| {
            r.operator == t.operator
                && r.key.eq_ignore_ascii_case(&t.key)
                && r.values.iter().collect::<BTreeSet<_>>() == t.values.iter().collect()
        })
    })
}

/// A statement's resource element as a selection (`*` when it has none).
fn selection(st: &Statement) -> ResourceSel {
    match &st.resources {
        ResourceSpec::Resource(p) => ResourceSel::Resource(p.clone()),
        ResourceSpec::NotResource(x) => ResourceSel::NotResource(x.clone()),
        ResourceSpec::None => ResourceSel::Resource(vec!["*".into()]),
    }
}

/// Whether today's element `t` lets a statement apply to everything `rec`
/// does.
fn covers(t: &ResourceSel, rec: &ResourceSel, pattern: Option<&str>) -> bool {
    match (rec, pattern) {
        (_, Some(p)) => t.covers(p),
        (ResourceSel::NotResource(x), None) => match t {
            ResourceSel::Resource(pats) => pats.iter().any(|p| p == "*"),
            // All but X within all but Y: every Y pattern is within X.
            ResourceSel::NotResource(y) => y.iter().all(|y| {
                x.iter()
                    .any(|x| crate::policy::arn_match::pattern_covers(x, y))
            }),
        },
        (ResourceSel::Resource(_), None) => false,
    }
}

/// Failures (b): actions the recommended Allow statements grant on
/// resources that no Allow of the replaced policies covers (under no more
/// conditions than the recommended statement has).
fn wider(
    cat: &Catalog,
    ex: &mut Expander,
    ap: &AuditedPrincipal,
    scope: Scope,
    doc: &PolicyDocument,
    out: &mut Vec<Failure>,
) {
    let p = &ap.verdicts.principal;
    let g = &ap.verdicts.grants;
    // Today's allowing statements of the replaced policies.
    let today: Vec<(&crate::policy::grants::Contribution, &Statement)> = g
        .contributions
        .iter()
        .filter(|c| c.effect == Effect::Allow)
        .filter(|c| match c.at.policy {
            PolicyRef::Identity(i) => p.policies.get(i).is_some_and(|a| scope.includes(&a.source)),
            PolicyRef::Boundary => false,
        })
        .filter_map(|c| statement(p, c.at).map(|s| (c, s)))
        .collect();
    for st in doc.statements.iter().filter(|s| s.effect == Effect::Allow) {
        let (set, _) = statement_actions(cat, ex, st);
        let sel = selection(st);
        // The patterns to check one by one; `None` for a NotResource element.
        let patterns: Vec<Option<String>> = match &sel {
            ResourceSel::Resource(p) => p.iter().cloned().map(Some).collect(),
            ResourceSel::NotResource(_) => vec![None],
        };
        for pat in patterns {
            let mut need = ActionSet::clone(&set);
            if let Some(p) = &pat {
                if p != "*" {
                    need.intersect_with(ex.applies(p));
                } else {
                    // `*` applies to every action.
                }
            }
            if need.is_empty() {
                continue;
            }
            let mut covered = ActionSet::empty(cat);
            for (c, t) in &today {
                if !conditions_within(&t.conditions, &st.conditions) {
                    continue;
                }
                if covers(&selection(t), &sel, pat.as_deref()) {
                    covered.union_with(&c.actions);
                } else {
                    // An action without resource types is requested on `*`
                    // only: a statement that applies to it at all (its
                    // contribution) allows that one request, whatever its
                    // resource patterns cover.
                    let mut resource_less = ActionSet::clone(&c.actions);
                    resource_less.intersect_with(&cat.template_index().resource_less);
                    covered.union_with(&resource_less);
                }
            }
            need.subtract(&covered);
            for id in need.iter() {
                let today_res: Vec<String> = today
                    .iter()
                    .filter(|(c, _)| c.actions.contains(id))
                    .flat_map(|(_, t)| statement_resources(cat, t, id))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                out.push(Failure {
                    kind: FailureKind::WiderThanToday,
                    action: cat.full_name(id),
                    resource: Some(pat.clone().unwrap_or_else(|| sel.describe())),
                    detail: format!(
                        "statement `{}` allows it; {}",
                        st.label(),
                        if today_res.is_empty() {
                            "the replaced policies do not allow it".to_string()
                        } else {
                            format!(
                                "the replaced policies allow it on {} only{}",
                                today_res
                                    .iter()
                                    .map(|r| format!("`{r}`"))
                                    .collect::<Vec<_>>()
                                    .join(", "),
                                if st.conditions.is_empty() {
                                    ""
                                } else {
                                    " (or under other conditions)"
                                }
                            )
                        }
                    ),
                });
            }
        }
    }
}

/// Failures listed one by one in the Markdown; the JSON has them all.
const LIST_MAX: usize = 30;

/// The `## Proof` section of a `.diff.md`.
pub fn markdown(p: &Proof) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "## Proof: {}\n",
        if p.passed { "passed" } else { "FAILED" }
    );
    let _ = writeln!(
        o,
        "Evaluated by leastpriv's policy engine with the recommended policy in place: every used action ({}) on every resource its records named ({} request(s)) stays allowed, and nothing is granted that today's policies do not.\n",
        p.checked_used_actions, p.checked_resources
    );
    o.push_str("Context:\n\n");
    for c in &p.context {
        let _ = writeln!(o, "- {c}");
    }
    if !p.failures.is_empty() {
        let _ = writeln!(o, "\nFailures ({}):\n", p.failures.len());
        for f in p.failures.iter().take(LIST_MAX) {
            let _ = writeln!(
                o,
                "- {} `{}`{}: {}",
                f.kind.as_str(),
                f.action,
                f.resource
                    .as_ref()
                    .map(|r| format!(" on `{r}`"))
                    .unwrap_or_default(),
                f.detail
            );
        }
        if p.failures.len() > LIST_MAX {
            let _ = writeln!(
                o,
                "- {} more (all in `recommend --format json`)",
                p.failures.len() - LIST_MAX
            );
        }
    }
    if !p.notes.is_empty() {
        o.push_str("\nNotes:\n\n");
        for n in &p.notes {
            let _ = writeln!(o, "- {n}");
        }
    }
    while o.ends_with('\n') {
        o.pop();
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::sync::OnceLock;

    fn demo() -> &'static (Audit, Vec<Recommendation>) {
        static DEMO: OnceLock<(Audit, Vec<Recommendation>)> = OnceLock::new();
        DEMO.get_or_init(|| {
            let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo"));
            let paths =
                crate::ingest::snapshot::SnapshotPaths::resolve(Some(dir), &Default::default())
                    .unwrap();
            let audit = crate::audit::run(
                &paths,
                &crate::audit::AuditOptions {
                    now: Some(1_793_491_200),
                    ..Default::default()
                },
            )
            .unwrap();
            let recs = super::super::recommend(&audit);
            (audit, recs)
        })
    }

    /// The demo's recommendation for `name`, its document changed by `edit`,
    /// proved again.
    fn reprove(name: &str, edit: impl Fn(&mut Vec<Value>)) -> Proof {
        let (audit, recs) = demo();
        let mut r = recs.iter().find(|r| r.name == name).unwrap().clone();
        if let Some(Value::Array(st)) = r.document.get_mut("Statement") {
            edit(st);
        }
        let index = Index::new(audit);
        let mut ex = Expander::new(audit.catalog);
        prove(audit, &index, &mut ex, &r).unwrap()
    }

    fn kinds(p: &Proof) -> Vec<(FailureKind, &str, Option<&str>)> {
        p.failures
            .iter()
            .map(|f| (f.kind, f.action.as_str(), f.resource.as_deref()))
            .collect()
    }

    const SECRET: &str =
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/orders/db-AbCdEf";

    #[test]
    fn every_demo_recommendation_passes_its_proof() {
        let (_, recs) = demo();
        let mut requests = 0;
        for r in recs {
            let p = r
                .proof
                .as_ref()
                .unwrap_or_else(|| panic!("`{}`: no proof", r.name));
            assert!(p.passed, "`{}`: {:#?}", r.name, p.failures);
            assert!(r.diff.contains("## Proof: passed"), "{}", r.diff);
            requests += p.checked_resources;
        }
        assert!(requests >= 15, "only {requests} requests decided");
        let orders = recs.iter().find(|r| r.name == "orders-api").unwrap();
        let p = orders.proof.as_ref().unwrap();
        assert_eq!(p.checked_used_actions, 4);
        assert!(
            p.context.iter().any(|c| c.contains(SECRET)),
            "{:?}",
            p.context
        );
        assert!(p
            .context
            .iter()
            .any(|c| c.starts_with("SCPs of the account: ")));
        let agent = recs.iter().find(|r| r.name == "support-agent").unwrap();
        let p = agent.proof.as_ref().unwrap();
        assert!(p
            .context
            .iter()
            .any(|c| c.starts_with("permissions boundary: ")));
    }

    #[test]
    fn a_used_call_the_recommendation_drops_fails_it() {
        let p = reprove("orders-api", |st| {
            st.retain(|s| s["Action"] != "secretsmanager:GetSecretValue");
        });
        assert!(!p.passed);
        assert_eq!(
            kinds(&p),
            [(
                FailureKind::UsedNotAllowed,
                "secretsmanager:GetSecretValue",
                Some(SECRET)
            )]
        );
        assert!(
            p.failures[0].detail.contains("allowed today"),
            "{:?}",
            p.failures
        );
    }

    #[test]
    fn a_used_call_checked_per_action_fails_when_dropped() {
        // `logs:CreateLogStream`: its records name no resource.
        let p = reprove("orders-api", |st| {
            st.retain(|s| s["Action"] != "logs:CreateLogStream");
        });
        assert_eq!(
            kinds(&p),
            [(FailureKind::UsedNotAllowed, "logs:CreateLogStream", None)]
        );
    }

    #[test]
    fn an_action_or_resource_today_does_not_grant_fails_as_wider() {
        let p = reprove("orders-api", |st| {
            st.push(json!({"Sid": "Extra", "Effect": "Allow", "Action": "s3:DeleteBucket", "Resource": "*"}));
            for s in st.iter_mut() {
                if s["Action"] == "ssm:GetParameter" {
                    s["Resource"] = json!("arn:aws:ssm:us-east-1:111122223333:parameter/prod/*");
                }
            }
        });
        let got = kinds(&p);
        assert!(
            got.contains(&(FailureKind::WiderThanToday, "s3:DeleteBucket", Some("*"))),
            "{got:?}"
        );
        assert!(
            got.contains(&(
                FailureKind::WiderThanToday,
                "ssm:GetParameter",
                Some("arn:aws:ssm:us-east-1:111122223333:parameter/prod/*")
            )),
            "{got:?}"
        );
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn narrower_resources_and_added_conditions_are_not_wider() {
        let p = reprove("orders-api", |st| {
            for s in st.iter_mut() {
                if s["Action"] == "ssm:GetParameter" {
                    s["Condition"] = json!({"StringEquals": {"aws:RequestedRegion": "us-east-1"}});
                }
            }
        });
        assert!(p.passed, "{:#?}", p.failures);
    }

    #[test]
    fn an_added_guardrail_that_denies_a_used_call_fails_once() {
        let p = reprove("orders-api", |st| {
            st.push(json!({"Sid": "DenySecrets", "Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}));
        });
        assert_eq!(
            kinds(&p),
            [(
                FailureKind::GuardrailDeniesUse,
                "secretsmanager:GetSecretValue",
                Some(SECRET)
            )]
        );
        assert!(p.failures[0].detail.contains("DenySecrets"));
    }

    #[test]
    fn a_resource_less_action_on_star_is_not_wider_than_a_not_resource_grant() {
        // Today: one NotResource grant. `ec2:DescribeInstances` has no
        // resource type: requested on `*`, which the grant allows, as the
        // recommended `Resource: *` does. `s3:GetObject` on `*` reaches the
        // excluded bucket: wider.
        let (audit, _) = demo();
        let cat = audit.catalog;
        let ap = audit
            .principals
            .iter()
            .find(|a| a.verdicts.principal.name == "orders-api")
            .unwrap();
        let mut p = ap.verdicts.principal.clone();
        let today = crate::ingest::policy_json::parse_document(
            &json!({"Statement": [{"Effect": "Allow",
                "Action": ["ec2:DescribeInstances", "s3:GetObject"],
                "NotResource": "arn:aws:s3:::secret-bucket/*"}]}),
            "today",
        )
        .unwrap();
        p.policies = vec![AttachedPolicy {
            source: PolicySource::Inline {
                policy_name: "today".into(),
            },
            document: Arc::new(today),
        }];
        let mut ex = Expander::new(cat);
        let mut verdicts = ap.verdicts.clone();
        verdicts.grants = Arc::new(effective_grants(cat, &mut ex, &p));
        verdicts.principal = p;
        let probe = AuditedPrincipal {
            verdicts,
            kind: ap.kind,
            kind_reason: String::new(),
            advisor: Vec::new(),
        };
        let doc = crate::ingest::policy_json::parse_document(
            &json!({"Statement": [{"Effect": "Allow",
                "Action": ["ec2:DescribeInstances", "s3:GetObject"], "Resource": "*"}]}),
            "recommended",
        )
        .unwrap();
        let mut out = Vec::new();
        wider(cat, &mut ex, &probe, Scope::Own, &doc, &mut out);
        let actions: Vec<&str> = out.iter().map(|f| f.action.as_str()).collect();
        assert_eq!(actions, ["s3:GetObject"], "{out:#?}");
    }

    #[test]
    fn a_guardrail_on_other_resources_passes() {
        let p = reprove("orders-api", |st| {
            st.push(json!({"Sid": "DenyOther", "Effect": "Deny", "Action": "secretsmanager:*", "NotResource": "arn:aws:secretsmanager:*:*:secret:prod/*"}));
        });
        assert!(p.passed, "{:#?}", p.failures);
    }

    #[test]
    fn a_document_that_does_not_parse_fails() {
        let p = reprove("orders-api", |st| {
            st.push(json!({"Effect": "Perhaps", "Action": "s3:*", "Resource": "*"}));
        });
        assert!(!p.passed);
        assert!(p.failures[0].detail.contains("does not parse"));
    }

    #[test]
    fn the_markdown_lists_failures() {
        let p = reprove("orders-api", |st| {
            st.retain(|s| s["Action"] != "secretsmanager:GetSecretValue");
        });
        let md = markdown(&p);
        assert!(md.starts_with("## Proof: FAILED"), "{md}");
        assert!(
            md.contains("- used-not-allowed `secretsmanager:GetSecretValue` on `"),
            "{md}"
        );
    }

    #[test]
    fn conditions_within_is_a_subset_test() {
        let c = |op: &str, k: &str, v: &[&str]| Condition {
            operator: op.into(),
            key: k.into(),
            values: v.iter().map(|s| s.to_string()).collect(),
        };
        let a = c("StringEquals", "aws:RequestedRegion", &["us-east-1"]);
        let b = c(
            "StringEquals",
            "iam:PassedToService",
            &["ec2.amazonaws.com"],
        );
        assert!(conditions_within(&[], std::slice::from_ref(&a)));
        assert!(conditions_within(
            std::slice::from_ref(&a),
            &[b.clone(), a.clone()]
        ));
        assert!(!conditions_within(std::slice::from_ref(&a), &[]));
        assert!(!conditions_within(&[a], &[b]));
    }
}

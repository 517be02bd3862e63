//! `who-can`: for one resource, every principal that is allowed each of a
//! set of actions on it — the users and roles of the account, and the
//! principals of other accounts, services and `*` that the resource's
//! policy names — with the conditions that apply, the statements that
//! decide, and who did it (or was refused) in the window.
//!
//! Each answer is `policy::access::decide`: identity policies, boundary,
//! the resource policy (a role's trust policy, a key's key policy), the
//! SCPs of the caller's account and the RCPs of the resource's. Resources
//! encrypted with a customer managed KMS key also need `kms:Decrypt` on it,
//! which its key policy decides (see `key`).
//!
//! Reads the audit (`audit`) and the policy engine; the secrets view
//! (`secrets`) is built on it; renderers are in `report::who_can`.

use crate::audit::Audit;
use crate::catalog::{ActionId, Catalog};
use crate::model::resource::{arn_account, is_aws_managed_key, PolicyRole, ResourcePolicy};
use crate::model::{AttachedPolicy, Effect, PrincipalElement};
use crate::policy::access::{
    decide, AccessRequest, AccessResponse, IdentityInput, ResourcePolicyInput, Route,
};
use crate::policy::caller::{Caller, CallerKind};
use crate::policy::request::{Decision, Request};
use crate::usage::Outcome;
use std::collections::BTreeMap;

/// A resource `who-can` was asked about that the command cannot use.
#[derive(Debug, thiserror::Error)]
pub enum WhoCanError {
    #[error("`{0}` is not an ARN")]
    NotAnArn(String),
    #[error("no catalog action matches `{0}`")]
    UnknownAction(String),
    #[error("no catalog action applies to `{0}` (give --action)")]
    NoActions(String),
}

/// Where the resource's policy comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// `resource-policies.json` holds it.
    ResourcePolicy,
    /// `resource-policies.json` says the resource has none.
    NoPolicy,
    /// A role's trust policy, from `iam.json`.
    TrustPolicy,
    /// The resource cannot have a policy of its own.
    NotApplicable,
    /// The snapshot does not say.
    Unknown,
}

impl PolicySource {
    pub fn as_str(&self) -> &'static str {
        match self {
            PolicySource::ResourcePolicy => "resource-policy",
            PolicySource::NoPolicy => "none",
            PolicySource::TrustPolicy => "trust-policy",
            PolicySource::NotApplicable => "not-applicable",
            PolicySource::Unknown => "not-in-snapshot",
        }
    }
}

/// Whether an action is allowed, for certain or under conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Allowed {
    Yes,
    /// Under conditions the snapshot cannot decide, or (for another
    /// account's principals) if their own identity policies allow it.
    Conditionally,
}

impl Allowed {
    pub fn as_str(self) -> &'static str {
        match self {
            Allowed::Yes => "allowed",
            Allowed::Conditionally => "conditional",
        }
    }
}

/// One action a principal may take on the resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionAccess {
    pub action: String,
    pub allowed: Allowed,
    /// `identity policy`, `resource policy`, `identity and resource policy`.
    pub route: &'static str,
    /// The statements that decide, named with their policy.
    pub statements: Vec<String>,
    /// Conditions the answer depends on, as written.
    pub conditions: Vec<String>,
    /// Facts that qualify it (identity policies not in the snapshot, ...).
    pub notes: Vec<String>,
    /// Reading needs the resource's KMS key too: what its policy decides
    /// (`None`: no customer managed key, or not a read).
    pub key: Option<KeyAccess>,
}

/// The decision on `kms:Decrypt` with the resource's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAccess {
    pub key: String,
    /// `None`: the key policy refuses it.
    pub allowed: Option<Allowed>,
    pub statements: Vec<String>,
    pub notes: Vec<String>,
}

/// A call on the resource in the window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub action: String,
    pub count: u64,
    pub first: i64,
    pub last: i64,
    pub error_codes: Vec<String>,
    /// Services that made the calls on the principal's behalf.
    pub invoked_by: Vec<String>,
}

/// One principal with what it may do and did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// An IAM ARN, an account id, a service or `*`.
    pub principal: String,
    pub name: String,
    pub caller_kind: CallerKind,
    /// human / npe / agent for the account's principals.
    pub kind: Option<&'static str>,
    pub account: Option<String>,
    pub in_snapshot: bool,
    pub actions: Vec<ActionAccess>,
    pub did: Vec<Call>,
    pub refused: Vec<Call>,
}

/// The answer.
#[derive(Clone, Debug)]
pub struct WhoCan {
    pub resource: String,
    pub resource_type: Option<String>,
    pub resource_account: Option<String>,
    pub policy: PolicySource,
    pub kms_key: Option<String>,
    pub actions: Vec<String>,
    /// Allowed principals first (by how many actions), then those who only
    /// acted or were refused.
    pub principals: Vec<Entry>,
    /// Facts about the resource (a key policy that locks IAM out, ...).
    pub notes: Vec<String>,
}

/// Services whose resources can carry a resource-based policy.
pub(crate) const POLICY_SERVICES: &[&str] = &[
    "s3",
    "sqs",
    "sns",
    "kms",
    "secretsmanager",
    "lambda",
    "ecr",
    "dynamodb",
    "glacier",
    "es",
    "logs",
    "events",
    "backup",
    "codeartifact",
];

/// Actions that read a resource's content and so need its KMS key.
fn reads_content(action: &str) -> bool {
    matches!(
        action,
        "secretsmanager:GetSecretValue"
            | "secretsmanager:BatchGetSecretValue"
            | "ssm:GetParameter"
            | "ssm:GetParameters"
            | "ssm:GetParametersByPath"
            | "ssm:GetParameterHistory"
            | "s3:GetObject"
            | "s3:GetObjectVersion"
            | "sqs:ReceiveMessage"
            | "dynamodb:GetItem"
            | "dynamodb:Query"
            | "dynamodb:Scan"
    )
}

/// The service that decrypts for the caller (`kms:ViaService`).
fn via_service(action: &str, resource: &str) -> Option<String> {
    let service = action.split(':').next()?;
    let region = resource.split(':').nth(3).filter(|r| !r.is_empty())?;
    Some(format!("{service}.{region}.amazonaws.com"))
}

/// The catalog actions that can name `arn`.
pub fn actions_for(cat: &Catalog, arn: &str) -> Vec<ActionId> {
    let mut ex = crate::policy::grants::Expander::new(cat);
    let set = ex.applies(arn).clone();
    set.iter()
        .filter(|&id| !cat.action(id).resource_types.is_empty())
        .collect()
}

/// Resolves action names or patterns.
pub fn resolve_actions(
    cat: &Catalog,
    given: &[String],
    arn: &str,
) -> Result<Vec<ActionId>, WhoCanError> {
    if !arn.starts_with("arn:") {
        return Err(WhoCanError::NotAnArn(arn.to_string()));
    }
    if given.is_empty() {
        let v = actions_for(cat, arn);
        if v.is_empty() {
            return Err(WhoCanError::NoActions(arn.to_string()));
        }
        return Ok(v);
    }
    let mut out = Vec::new();
    for a in given {
        let set = cat.expand(a);
        if set.is_empty() {
            return Err(WhoCanError::UnknownAction(a.clone()));
        }
        out.extend(set.iter());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether a record's resource names `arn` (or is inside it).
fn names_resource(r: &str, arn: &str, res: Option<&ResourcePolicy>) -> bool {
    r == arn
        || res.is_some_and(|p| p.covers(r))
        || crate::model::resource::secret_base(r) == crate::model::resource::secret_base(arn)
}

/// Who can do `actions` on `arn`.
pub fn build(audit: &Audit, arn: &str, actions: &[ActionId]) -> Result<WhoCan, WhoCanError> {
    if !arn.starts_with("arn:") {
        return Err(WhoCanError::NotAnArn(arn.to_string()));
    }
    let cat = audit.catalog;
    let org = audit.organization.as_deref();
    let found = audit.resources.as_deref().and_then(|r| r.find(arn));
    let role = audit
        .principals
        .iter()
        .map(|p| &p.verdicts.principal)
        .find(|p| p.arn == arn && p.trust_policy.is_some());
    let service = arn.split(':').nth(2).unwrap_or("");
    let (policy, input): (PolicySource, ResourcePolicyInput) = if let Some(r) = role {
        (
            PolicySource::TrustPolicy,
            ResourcePolicyInput::Policy(
                r.trust_policy.as_ref().expect("checked"),
                PolicyRole::TrustPolicy,
            ),
        )
    } else if let Some(r) = found {
        match &r.document {
            Some(d) => (
                PolicySource::ResourcePolicy,
                ResourcePolicyInput::Policy(d, r.kind.policy_role()),
            ),
            None => (PolicySource::NoPolicy, ResourcePolicyInput::None),
        }
    } else if POLICY_SERVICES.contains(&service) {
        (PolicySource::Unknown, ResourcePolicyInput::Unknown)
    } else {
        (PolicySource::NotApplicable, ResourcePolicyInput::None)
    };
    let resource_account = found
        .and_then(|r| r.account.clone())
        .or_else(|| arn_account(arn).map(String::from))
        .or_else(|| audit.account_id.clone());
    let kms_key = found
        .and_then(|r| r.kms_key.clone())
        .filter(|k| !is_aws_managed_key(k));
    let key = kms_key
        .as_deref()
        .and_then(|k| audit.resources.as_deref().and_then(|r| r.key(k)));
    let names: Vec<String> = actions.iter().map(|&id| cat.full_name(id)).collect();
    let mut notes = Vec::new();
    const UNKNOWN_POLICY: &str = "the resource's policy is not in the snapshot";
    if policy == PolicySource::Unknown {
        notes.push(format!(
            "{UNKNOWN_POLICY} (resource-policies.json): principals it may let in are not listed, and a Deny in it is not seen"
        ));
    }
    if let (Some(k), None) = (&kms_key, key) {
        notes.push(format!(
            "encrypted with `{k}`, whose key policy is not in the snapshot: reads also need kms:Decrypt on it"
        ));
    }
    if let (Some(k), Some(doc), Some(acct)) = (
        key,
        key.and_then(|k| k.document.as_deref()),
        key.and_then(|k| k.account.as_deref()),
    ) {
        if !trusts_account(doc, acct) {
            notes.push(format!(
                "its key `{}` does not trust account {acct}: only the principals the key policy names can decrypt it",
                k.arn
            ));
        }
    }
    if let ResourcePolicyInput::Policy(doc, PolicyRole::KeyPolicy) = input {
        if let Some(acct) = resource_account.as_deref() {
            if !trusts_account(doc, acct) {
                notes.push(format!(
                    "the key policy does not trust account {acct}: IAM policies cannot grant use of this key; only the principals it names can use it"
                ));
            }
        }
    }

    // A role's trust policy is its resource policy for assuming it (and
    // tagging the session); its IAM actions have none.
    let input_for = |action: &str| -> ResourcePolicyInput {
        match (&policy, input) {
            (PolicySource::TrustPolicy, _) if !action.starts_with("sts:") => {
                ResourcePolicyInput::None
            }
            _ => input,
        }
    };
    // A regional resource is called in its Region (`aws:RequestedRegion`).
    let region_of = |a: &str| {
        a.split(':')
            .nth(3)
            .filter(|r| !r.is_empty())
            .map(String::from)
    };
    let decide_one = |caller: &Caller,
                      ident: IdentityInput,
                      action: &str,
                      resource: &str,
                      input: ResourcePolicyInput,
                      racct: Option<&str>,
                      ctx: crate::policy::condition::Context|
     -> AccessResponse {
        let mut ctx = ctx;
        if let Some(r) = region_of(resource) {
            ctx.entry("aws:requestedregion".into())
                .or_insert_with(|| vec![r]);
        }
        decide(&AccessRequest {
            caller,
            identity: ident,
            resource_account: racct,
            resource_policy: input,
            org,
            request: &Request {
                action: action.to_string(),
                resource: resource.to_string(),
                context: ctx,
            },
            complete: false,
        })
    };
    let key_check = |caller: &Caller, ident: IdentityInput, action: &str| -> Option<KeyAccess> {
        let k = kms_key.as_deref()?;
        if !reads_content(action) {
            return None;
        }
        let mut ctx = crate::policy::condition::Context::new();
        if let Some(v) = via_service(action, arn) {
            ctx.insert("kms:viaservice".into(), vec![v]);
        }
        if let Some(a) = &caller.account {
            ctx.insert("kms:calleraccount".into(), vec![a.clone()]);
        }
        if service == "secretsmanager" {
            ctx.insert(
                "kms:encryptioncontext:secretarn".into(),
                vec![arn.to_string()],
            );
        }
        let Some(key) = key else {
            return Some(KeyAccess {
                key: k.to_string(),
                allowed: Some(Allowed::Conditionally),
                statements: Vec::new(),
                notes: vec!["key policy not in the snapshot".into()],
            });
        };
        let doc = key.document.as_deref();
        let input = match doc {
            Some(d) => ResourcePolicyInput::Policy(d, PolicyRole::KeyPolicy),
            None => ResourcePolicyInput::Unknown,
        };
        let r = decide_one(
            caller,
            ident,
            "kms:Decrypt",
            &key.arn,
            input,
            key.account.as_deref(),
            ctx,
        );
        Some(KeyAccess {
            key: key.arn.clone(),
            allowed: allowed_of(r.decision),
            statements: statements(&r),
            notes: r.notes.clone(),
        })
    };

    let mut entries: Vec<Entry> = Vec::new();
    // The account's users and roles.
    for ap in &audit.principals {
        let v = &ap.verdicts;
        let p = &v.principal;
        let caller = Caller::of_principal(p, org);
        let pols: Vec<&AttachedPolicy> = p.policies.iter().collect();
        let ident = IdentityInput {
            policies: &pols,
            boundary: p.boundary.as_ref(),
            known: true,
        };
        let named = match input {
            ResourcePolicyInput::Policy(doc, _) => doc.statements.iter().any(|s| {
                s.effect == Effect::Allow
                    && crate::policy::access::names(s, &caller) != crate::policy::access::Named::No
            }),
            _ => false,
        };
        let mut acts = Vec::new();
        for (i, &id) in actions.iter().enumerate() {
            // Neither its grants nor the resource policy can allow it.
            if !named && !v.grants.granted.contains(id) {
                continue;
            }
            let r = decide_one(
                &caller,
                ident,
                &names[i],
                arn,
                input_for(&names[i]),
                resource_account.as_deref(),
                Default::default(),
            );
            if let Some(a) = access_of(&names[i], &r) {
                let key = key_check(&caller, ident, &names[i]);
                if key.as_ref().is_some_and(|k| k.allowed.is_none()) {
                    continue;
                }
                acts.push(ActionAccess { key, ..a });
            }
        }
        let (did, refused) = calls_of_principal(cat, v, arn, found, actions);
        if acts.is_empty() && did.is_empty() && refused.is_empty() {
            continue;
        }
        entries.push(Entry {
            principal: p.arn.clone(),
            name: p.name.clone(),
            caller_kind: caller.kind,
            kind: Some(ap.kind.as_str()),
            account: caller.account.clone(),
            in_snapshot: true,
            actions: acts,
            did,
            refused,
        });
    }
    // Whoever else the resource policy names.
    if let ResourcePolicyInput::Policy(doc, _) = input {
        for (kind, who) in named_outside(doc, resource_account.as_deref(), audit) {
            let caller = Caller::named(kind, &who, org);
            let ident = IdentityInput::default();
            let mut acts = Vec::new();
            for name in &names {
                let r = decide_one(
                    &caller,
                    ident,
                    name,
                    arn,
                    input_for(name),
                    resource_account.as_deref(),
                    Default::default(),
                );
                if let Some(a) = access_of(name, &r) {
                    let key = key_check(&caller, ident, name);
                    if key.as_ref().is_some_and(|k| k.allowed.is_none()) {
                        continue;
                    }
                    acts.push(ActionAccess { key, ..a });
                }
            }
            if acts.is_empty() {
                continue;
            }
            entries.push(Entry {
                name: who.clone(),
                principal: who,
                caller_kind: kind,
                kind: None,
                account: caller.account.clone(),
                in_snapshot: false,
                actions: acts,
                did: Vec::new(),
                refused: Vec::new(),
            });
        }
    }
    // Identities outside the snapshot that acted on it in the window.
    for o in &audit.others {
        let mut did = Vec::new();
        let mut refused = Vec::new();
        for ((id, outcome), stats) in o.activity.actions.iter() {
            if !actions.contains(id)
                || !stats
                    .resources
                    .iter()
                    .any(|r| names_resource(r, arn, found))
            {
                continue;
            }
            let c = call(cat, *id, stats);
            match outcome {
                Outcome::Success => did.push(c),
                Outcome::Denied => refused.push(c),
                // Evidence lists of successes and refusals only: failed
                // calls are neither (the verdict stage decides what they
                // mean for the account's own principals).
                Outcome::Failed | Outcome::FailedLikely | Outcome::DryRun | Outcome::Error => {}
            }
        }
        if did.is_empty() && refused.is_empty() {
            continue;
        }
        let account = arn_account(&o.arn).map(String::from);
        // Fold into the entry of its account when the policy names that.
        if let Some(e) = entries.iter_mut().find(|e| {
            !e.in_snapshot
                && (e.principal == o.arn
                    || (e.caller_kind == CallerKind::Account && e.account == account))
        }) {
            e.did.extend(did.into_iter().map(|mut c| {
                c.action = format!("{} (as {})", c.action, o.arn);
                c
            }));
            e.refused.extend(refused);
            continue;
        }
        entries.push(Entry {
            principal: o.arn.clone(),
            name: o.arn.rsplit('/').next().unwrap_or(&o.arn).to_string(),
            caller_kind: match o.kind {
                crate::usage::ActorKind::Federated => CallerKind::Federated,
                crate::usage::ActorKind::Root => CallerKind::Account,
                _ if o.arn.contains(":user/") => CallerKind::User,
                _ => CallerKind::Role,
            },
            kind: None,
            account,
            in_snapshot: false,
            actions: Vec::new(),
            did,
            refused,
        });
    }
    entries.sort_by(|a, b| {
        (
            a.actions.is_empty(),
            std::cmp::Reverse(a.actions.len()),
            !a.in_snapshot,
            &a.principal,
        )
            .cmp(&(
                b.actions.is_empty(),
                std::cmp::Reverse(b.actions.len()),
                !b.in_snapshot,
                &b.principal,
            ))
    });
    Ok(WhoCan {
        resource: arn.to_string(),
        resource_type: found.map(|r| r.resource_type.clone()),
        resource_account,
        policy,
        kms_key,
        actions: names,
        principals: entries,
        notes,
    })
}

/// Whether a key policy lets the account's IAM policies grant use of the
/// key: an Allow naming the account (id or root) for `kms:*` or a KMS action.
pub fn trusts_account(doc: &crate::model::PolicyDocument, account: &str) -> bool {
    let root = Caller::named(
        CallerKind::Account,
        &format!("arn:aws:iam::{account}:root"),
        None,
    );
    doc.statements.iter().any(|s| {
        s.effect == Effect::Allow
            && crate::policy::access::names(s, &root) != crate::policy::access::Named::No
            && crate::policy::request::statement_matches(s, "kms:Decrypt", "*")
    })
}

fn allowed_of(d: Decision) -> Option<Allowed> {
    match d {
        Decision::Allow => Some(Allowed::Yes),
        Decision::Unknown => Some(Allowed::Conditionally),
        _ => None,
    }
}

/// The deciding statements, each named with its policy.
fn statements(r: &AccessResponse) -> Vec<String> {
    let mut out: Vec<String> = r
        .identity
        .iter()
        .map(|x| {
            format!(
                "{}{}, statement {}{}",
                if x.boundary { "boundary " } else { "" },
                x.policy,
                x.statement,
                if x.certain { "" } else { " (conditional)" }
            )
        })
        .collect();
    out.extend(r.resource.iter().map(|x| {
        format!(
            "resource policy statement {} ({}, names the caller {}{})",
            x.statement,
            x.effect.as_str(),
            x.named.as_str(),
            if x.certain { "" } else { ", conditional" }
        )
    }));
    for o in [&r.scp, &r.rcp].into_iter().flatten() {
        if o.exempt.is_none() {
            out.extend(o.reasons.iter().map(|x| x.to_string()));
        }
    }
    out
}

fn access_of(action: &str, r: &AccessResponse) -> Option<ActionAccess> {
    let allowed = allowed_of(r.decision)?;
    // Said once for the resource, not per principal.
    let notes = r
        .notes
        .iter()
        .filter(|n| !n.starts_with("the resource's policy is not in the snapshot"))
        .cloned()
        .collect();
    Some(ActionAccess {
        action: action.to_string(),
        allowed,
        route: r.route.unwrap_or(Route::Identity).as_str(),
        statements: statements(r),
        conditions: r.conditions.iter().map(|c| c.to_string()).collect(),
        notes,
        key: None,
    })
}

fn call(cat: &Catalog, id: ActionId, s: &crate::usage::ActionStats) -> Call {
    Call {
        action: cat.full_name(id),
        count: s.count,
        first: s.first,
        last: s.last,
        error_codes: s.error_codes.keys().map(String::from).collect(),
        invoked_by: s.invoked_by.keys().map(String::from).collect(),
    }
}

fn calls_of_principal(
    cat: &Catalog,
    v: &crate::verdict::PrincipalVerdicts,
    arn: &str,
    found: Option<&ResourcePolicy>,
    actions: &[ActionId],
) -> (Vec<Call>, Vec<Call>) {
    let hit =
        |s: &crate::usage::ActionStats| s.resources.iter().any(|r| names_resource(r, arn, found));
    let did = v
        .used
        .iter()
        .filter(|u| actions.contains(&u.action) && hit(&u.stats))
        .map(|u| call(cat, u.action, &u.stats))
        .collect();
    let refused = v
        .denied
        .iter()
        .filter(|d| actions.contains(&d.action) && hit(&d.stats))
        .map(|d| call(cat, d.action, &d.stats))
        .collect();
    (did, refused)
}

/// The principals a policy names that are not users or roles of the
/// snapshot: other accounts, their roles and users, services, providers
/// and `*`. The resource's own account is covered by its principals.
fn named_outside(
    doc: &crate::model::PolicyDocument,
    own: Option<&str>,
    audit: &Audit,
) -> Vec<(CallerKind, String)> {
    let mut out: BTreeMap<String, CallerKind> = BTreeMap::new();
    for st in doc.statements.iter().filter(|s| s.effect == Effect::Allow) {
        if st.not_principal {
            out.insert("*".into(), CallerKind::Anyone);
            continue;
        }
        match &st.principal {
            Some(PrincipalElement::Bare(s)) if s == "*" => {
                out.insert("*".into(), CallerKind::Anyone);
            }
            Some(PrincipalElement::ByKind(kinds)) => {
                for (k, names) in kinds {
                    for n in names {
                        match k.as_str() {
                            "AWS" if n == "*" => {
                                out.insert("*".into(), CallerKind::Anyone);
                            }
                            "AWS" => {
                                let acct = if n.chars().all(|c| c.is_ascii_digit()) {
                                    Some(n.as_str())
                                } else {
                                    n.strip_prefix("arn:aws:iam::")
                                        .and_then(|r| r.strip_suffix(":root"))
                                };
                                match acct {
                                    Some(a) if Some(a) == own => {}
                                    Some(a) => {
                                        out.insert(
                                            format!("arn:aws:iam::{a}:root"),
                                            CallerKind::Account,
                                        );
                                    }
                                    None => {
                                        let in_snapshot = audit
                                            .principals
                                            .iter()
                                            .any(|p| p.verdicts.principal.arn == *n);
                                        if !in_snapshot {
                                            let kind = if n.contains(":user/") {
                                                CallerKind::User
                                            } else {
                                                CallerKind::Role
                                            };
                                            out.insert(n.clone(), kind);
                                        }
                                    }
                                }
                            }
                            "Service" => {
                                out.insert(n.clone(), CallerKind::Service);
                            }
                            "Federated" => {
                                out.insert(n.clone(), CallerKind::Federated);
                            }
                            _ => {}
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.into_iter().map(|(k, v)| (v, k)).collect()
}

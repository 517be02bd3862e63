//! The data-driven evaluator corpus, in the style of cedar-testing: every
//! `tests/evaluator/*.yaml` file holds cases, each a principal's policies
//! (identity policies and an optional permissions boundary, as IAM JSON
//! embedded as YAML maps) with
//!
//! - `requests`: one request each (action, resource, context) and the decision
//!   `policy::evaluate_request` must reach, with the statements it must name;
//! - `grants`: what `policy::effective_grants` must report over the catalog.
//!
//! Every case of every file runs, and all failures are reported together,
//! each with its file and case name. The schema denies unknown fields, so a
//! typo fails the run instead of making an assertion that never fires.
//!
//! Schema, by example:
//!
//! ```yaml
//! cases:
//!   - name: unique-in-this-file
//!     description: optional free text
//!     identity:
//!       - {Version: "2012-10-17", Statement: [...]}      # an inline policy
//!       - name: ReadOnly                                  # or a policy with its source
//!         kind: managed                                   # inline (default) | managed
//!         group: devs                                     # optional: attached to a group
//!         document: {Statement: [...]}
//!     boundary: {Statement: [...]}                        # optional
//!     requests:
//!       - action: s3:GetObject
//!         resource: arn:aws:s3:::b/k                      # default "*"
//!         context: {aws:SourceIp: ["10.0.0.1"]}           # key -> list of values
//!         decision: allow          # allow | explicit-deny | implicit-deny | unknown
//!         reasons: [ReadObjects]   # statement labels (Sid, else #index) that the
//!                                  # response names, in any order; boundary ones are
//!                                  # `boundary:<label>`, uncertain ones end in `?`
//!     grants:                      # action patterns, expanded against the catalog
//!       granted: [s3:GetObject]    # each listed set must contain every action
//!       not_granted: [iam:*]       # each `not_` set must contain none of them
//!       granted_only: [s3:*]       # the granted set is within these patterns
//!       conditional: [...]
//!       partially_denied: [...]
//!       denied: [...]
//!       outside_boundary: [...]    # and not_conditional, not_partially_denied, ...
//!       blocked_by_org: [...]      # with `organization`: what its SCPs block
//!       org_limited: [...]         # and what SCPs or RCPs limit
//! ```
//!
//! Cases about organizations and resource policies (`organizations.yaml`,
//! `resource-policies.yaml`) add, each naming the AWS documentation page it
//! follows (`documentation`, required with these):
//!
//! ```yaml
//!     documentation: https://docs.aws.amazon.com/...
//!     principal: arn:aws:iam::123456789012:role/app   # default user/test; its
//!                                                      # account, path and type
//!     tags: {team: data}                               # the principal's tags
//!     organization:                                    # the principal's (and the
//!       management: "999999999999"                     # resource's) organization
//!       path: [r-root, ou-prod]                        # parents of 123456789012
//!       members: ["444455556666"]                      # other accounts, under the root
//!       scps: [{name: FullAWSAccess, targets: [r-root, ou-prod, "123456789012"], document: {...}}]
//!       rcps: [...]
//!     resource:                                        # the resource's own policy
//!       kind: ordinary                                 # ordinary | key | trust
//!       account: "123456789012"                        # default: from the request's ARN
//!       policy: {Statement: [...]}                     # or null: it has none
//!     caller: {kind: account, arn: "arn:aws:iam::444455556666:root"}   # instead of the
//!                                                      # principal: one whose identity
//!                                                      # policies are not known
//! ```
//!
//! With any of `organization`, `resource` or `caller`, requests go through
//! `policy::access::decide` (the request's context is complete: a key it
//! lacks is absent), and reasons also name `resource:<label>`,
//! `scp:<policy>:<label>`, `scp:no-allow:<target id>` and `rcp:...`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use leastpriv::catalog::{ActionSet, Catalog};
use leastpriv::ingest::policy_json::parse_document;
use leastpriv::model::organization::{OrgAccount, OrgUnit, OrganizationParts};
use leastpriv::model::resource::PolicyRole;
use leastpriv::model::{AttachedPolicy, PolicySource, Principal, PrincipalType};
use leastpriv::model::{OrgPolicy, OrgPolicyKind, Organization};
use leastpriv::policy::access::{decide, AccessRequest, IdentityInput, ResourcePolicyInput};
use leastpriv::policy::caller::{Caller, CallerKind};
use leastpriv::policy::condition::Context;
use leastpriv::policy::grants::apply_org;
use leastpriv::policy::grants::Expander;
use leastpriv::policy::organization::OrgEval;
use leastpriv::policy::request::Reason;
use leastpriv::policy::{effective_grants, evaluate_request, Decision, EffectiveGrants, Request};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    #[allow(dead_code)] // documentation for the reader of the YAML
    description: Option<String>,
    identity: Vec<Value>,
    #[serde(default)]
    boundary: Option<Value>,
    #[serde(default)]
    requests: Vec<RequestCase>,
    #[serde(default)]
    grants: Option<GrantsCase>,
    /// The AWS documentation page the case follows.
    #[serde(default)]
    documentation: Option<String>,
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    organization: Option<OrgCase>,
    #[serde(default)]
    resource: Option<ResourceCase>,
    #[serde(default)]
    caller: Option<CallerCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgCase {
    #[serde(default = "management")]
    management: String,
    #[serde(default = "root_path")]
    path: Vec<String>,
    #[serde(default)]
    members: Vec<String>,
    #[serde(default)]
    scps: Vec<OrgPolicyCase>,
    #[serde(default)]
    rcps: Vec<OrgPolicyCase>,
}

fn management() -> String {
    "999999999999".into()
}

fn root_path() -> Vec<String> {
    vec!["r-root".into()]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgPolicyCase {
    name: String,
    #[serde(default)]
    id: Option<String>,
    targets: Vec<String>,
    document: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceCase {
    #[serde(default)]
    kind: ResourceKindCase,
    #[serde(default)]
    account: Option<String>,
    policy: Option<Value>,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ResourceKindCase {
    #[default]
    Ordinary,
    Key,
    Trust,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallerCase {
    kind: String,
    arn: String,
}

/// An identity policy given with its source rather than as a bare document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcedPolicy {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Kind,
    #[serde(default)]
    group: Option<String>,
    document: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    #[default]
    Inline,
    Managed,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestCase {
    action: String,
    #[serde(default = "star")]
    resource: String,
    #[serde(default)]
    context: BTreeMap<String, Vec<String>>,
    decision: ExpectedDecision,
    reasons: Vec<String>,
}

fn star() -> String {
    "*".to_string()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ExpectedDecision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
    Unknown,
}

impl ExpectedDecision {
    fn decision(self) -> Decision {
        match self {
            ExpectedDecision::Allow => Decision::Allow,
            ExpectedDecision::ExplicitDeny => Decision::ExplicitDeny,
            ExpectedDecision::ImplicitDeny => Decision::ImplicitDeny,
            ExpectedDecision::Unknown => Decision::Unknown,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantsCase {
    #[serde(default)]
    granted: Vec<String>,
    #[serde(default)]
    not_granted: Vec<String>,
    #[serde(default)]
    granted_only: Option<Vec<String>>,
    #[serde(default)]
    conditional: Vec<String>,
    #[serde(default)]
    not_conditional: Vec<String>,
    #[serde(default)]
    partially_denied: Vec<String>,
    #[serde(default)]
    not_partially_denied: Vec<String>,
    #[serde(default)]
    denied: Vec<String>,
    #[serde(default)]
    not_denied: Vec<String>,
    #[serde(default)]
    outside_boundary: Vec<String>,
    #[serde(default)]
    not_outside_boundary: Vec<String>,
    #[serde(default)]
    blocked_by_org: Vec<String>,
    #[serde(default)]
    not_blocked_by_org: Vec<String>,
    #[serde(default)]
    org_limited: Vec<String>,
    #[serde(default)]
    not_org_limited: Vec<String>,
}

const ACCOUNT: &str = "123456789012";

/// Parses a policy document, refusing top-level keys IAM does not have (the
/// parser ignores them, which would turn a typo into an empty policy).
fn document(value: &Value, at: &str) -> Result<AttachedDocument, String> {
    let obj = value
        .as_object()
        .ok_or_else(|| format!("{at}: a policy document must be a map"))?;
    if let Some(key) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
    {
        return Err(format!("{at}: unknown policy document key `{key}`"));
    }
    if !obj.contains_key("Statement") {
        return Err(format!("{at}: policy document has no `Statement`"));
    }
    parse_document(value, "$")
        .map(Arc::new)
        .map_err(|e| format!("{at}: {e}"))
}

type AttachedDocument = Arc<leastpriv::model::PolicyDocument>;

fn identity_policy(value: &Value, index: usize) -> Result<AttachedPolicy, String> {
    let at = format!("identity[{index}]");
    let is_sourced = value
        .as_object()
        .is_some_and(|o| o.contains_key("document"));
    if !is_sourced {
        return Ok(AttachedPolicy {
            source: PolicySource::Inline {
                policy_name: format!("policy-{index}"),
            },
            document: document(value, &at)?,
        });
    }
    let sourced: SourcedPolicy =
        serde_json::from_value(value.clone()).map_err(|e| format!("{at}: {e}"))?;
    let name = sourced.name.unwrap_or_else(|| format!("policy-{index}"));
    let arn = format!("arn:aws:iam::{ACCOUNT}:policy/{name}");
    let source = match (sourced.kind, sourced.group) {
        (Kind::Inline, None) => PolicySource::Inline { policy_name: name },
        (Kind::Inline, Some(group)) => PolicySource::GroupInline {
            group,
            policy_name: name,
        },
        (Kind::Managed, None) => PolicySource::Managed {
            arn,
            name,
            version: "v1".into(),
        },
        (Kind::Managed, Some(group)) => PolicySource::GroupManaged {
            group,
            arn,
            name,
            version: "v1".into(),
        },
    };
    Ok(AttachedPolicy {
        source,
        document: document(&sourced.document, &at)?,
    })
}

fn principal(case: &Case) -> Result<Principal, String> {
    let policies = case
        .identity
        .iter()
        .enumerate()
        .map(|(i, v)| identity_policy(v, i))
        .collect::<Result<Vec<_>, _>>()?;
    let boundary = case
        .boundary
        .as_ref()
        .map(|b| {
            Ok::<_, String>(AttachedPolicy {
                source: PolicySource::Boundary {
                    arn: format!("arn:aws:iam::{ACCOUNT}:policy/boundary"),
                    name: "boundary".into(),
                    version: "v1".into(),
                },
                document: document(b, "boundary")?,
            })
        })
        .transpose()?;
    let groups: BTreeSet<String> = policies
        .iter()
        .filter_map(|p| match &p.source {
            PolicySource::GroupInline { group, .. } | PolicySource::GroupManaged { group, .. } => {
                Some(group.clone())
            }
            _ => None,
        })
        .collect();
    let arn = case
        .principal
        .clone()
        .unwrap_or_else(|| format!("arn:aws:iam::{ACCOUNT}:user/test"));
    let (principal_type, rest) = if let Some((_, r)) = arn.split_once(":role/") {
        (PrincipalType::Role, r)
    } else if let Some((_, r)) = arn.split_once(":user/") {
        (PrincipalType::User, r)
    } else {
        return Err(format!(
            "principal `{arn}` is neither a user nor a role ARN"
        ));
    };
    let (path, name) = match rest.rsplit_once('/') {
        Some((p, n)) => (format!("/{p}/"), n.to_string()),
        None => ("/".to_string(), rest.to_string()),
    };
    Ok(Principal {
        name,
        path,
        id: "AIDATEST".into(),
        principal_type,
        created: None,
        policies,
        boundary,
        trust_policy: None,
        tags: case
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        groups: groups.into_iter().collect(),
        role_last_used: None,
        instance_profiles: Vec::new(),
        arn,
    })
}

/// The organization of a case: its path of parents down to the
/// principal's account, the other members under the root, the policies.
fn organization(case: &Case, p: &Principal) -> Result<Option<Organization>, String> {
    let Some(o) = &case.organization else {
        return Ok(None);
    };
    let account = p.arn.split(':').nth(4).unwrap_or(ACCOUNT).to_string();
    let mut units = Vec::new();
    let mut parent: Option<String> = None;
    for id in &o.path {
        units.push(OrgUnit {
            id: id.clone(),
            name: None,
            parent: parent.clone(),
        });
        parent = Some(id.clone());
    }
    let root = o.path.first().cloned();
    let mut accounts = vec![OrgAccount {
        id: account.clone(),
        name: None,
        status: None,
        parent,
    }];
    for m in o.members.iter().chain(std::iter::once(&o.management)) {
        if *m != account {
            accounts.push(OrgAccount {
                id: m.clone(),
                name: None,
                status: None,
                parent: root.clone(),
            });
        }
    }
    let mut policies = Vec::new();
    for (kind, list) in [(OrgPolicyKind::Scp, &o.scps), (OrgPolicyKind::Rcp, &o.rcps)] {
        for (i, pc) in list.iter().enumerate() {
            policies.push(OrgPolicy {
                id: pc.id.clone().unwrap_or_else(|| format!("p-{}", pc.name)),
                arn: None,
                name: pc.name.clone(),
                kind,
                aws_managed: false,
                document: document(
                    &pc.document,
                    &format!("organization.{}[{i}]", kind.as_str()),
                )?,
                targets: pc.targets.clone(),
                content_unknown: false,
            });
        }
    }
    Ok(Some(Organization::new(OrganizationParts {
        id: Some("o-test".into()),
        arn: None,
        management_account: Some(o.management.clone()),
        units,
        accounts,
        policies,
        scp_enabled: !o.scps.is_empty(),
        rcp_enabled: !o.rcps.is_empty(),
    })))
}

fn caller_kind(k: &str) -> Result<CallerKind, String> {
    Ok(match k {
        "user" => CallerKind::User,
        "role" => CallerKind::Role,
        "account" => CallerKind::Account,
        "service" => CallerKind::Service,
        "federated" => CallerKind::Federated,
        "anyone" => CallerKind::Anyone,
        other => return Err(format!("caller kind `{other}`")),
    })
}

/// A request through the whole decision (identity, boundary, resource
/// policy, SCPs, RCPs).
fn check_access(
    case: &Case,
    principal: &Principal,
    org: Option<&Organization>,
    i: usize,
    rc: &RequestCase,
    errors: &mut Vec<String>,
) {
    let what = format!("requests[{i}] {} on `{}`", rc.action, rc.resource);
    let context: Context = rc
        .context
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let req = Request {
        action: rc.action.clone(),
        resource: rc.resource.clone(),
        context,
    };
    let caller = match &case.caller {
        Some(c) => match caller_kind(&c.kind) {
            Ok(k) => Caller::named(k, &c.arn, org),
            Err(e) => return errors.push(e),
        },
        None => Caller::of_principal(principal, org),
    };
    let doc = match case.resource.as_ref().and_then(|r| r.policy.as_ref()) {
        Some(v) => match document(v, "resource.policy") {
            Ok(d) => Some(d),
            Err(e) => return errors.push(e),
        },
        None => None,
    };
    let role = match case.resource.as_ref().map(|r| r.kind) {
        Some(ResourceKindCase::Key) => PolicyRole::KeyPolicy,
        Some(ResourceKindCase::Trust) => PolicyRole::TrustPolicy,
        _ => PolicyRole::Ordinary,
    };
    let input = match &doc {
        Some(d) => ResourcePolicyInput::Policy(d, role),
        None => ResourcePolicyInput::None,
    };
    let resource_account = case
        .resource
        .as_ref()
        .and_then(|r| r.account.clone())
        .or_else(|| {
            rc.resource
                .split(':')
                .nth(4)
                .filter(|a| !a.is_empty())
                .map(String::from)
        })
        .unwrap_or_else(|| ACCOUNT.to_string());
    let pols: Vec<&AttachedPolicy> = principal.policies.iter().collect();
    let resp = decide(&AccessRequest {
        caller: &caller,
        identity: IdentityInput {
            policies: &pols,
            boundary: principal.boundary.as_ref(),
            known: case.caller.is_none(),
        },
        resource_account: Some(&resource_account),
        resource_policy: input,
        org,
        request: &req,
        complete: true,
    });
    let want = rc.decision.decision();
    if resp.decision != want {
        errors.push(format!(
            "{what}: decision {}, expected {} (notes: {:?})",
            resp.decision.as_str(),
            want.as_str(),
            resp.notes
        ));
    }
    let mut got: BTreeSet<String> = resp.identity.iter().map(reason_label).collect();
    got.extend(resp.resource.iter().map(|r| {
        format!(
            "resource:{}{}",
            r.statement,
            if r.certain { "" } else { "?" }
        )
    }));
    for o in [&resp.scp, &resp.rcp].into_iter().flatten() {
        got.extend(o.reasons.iter().map(|r| r.label()));
    }
    let expected: BTreeSet<String> = rc.reasons.iter().cloned().collect();
    if got != expected {
        errors.push(format!("{what}: reasons {got:?}, expected {expected:?}"));
    }
}

fn reason_label(r: &Reason) -> String {
    format!(
        "{}{}{}",
        if r.boundary { "boundary:" } else { "" },
        r.statement,
        if r.certain { "" } else { "?" }
    )
}

fn check_request(principal: &Principal, i: usize, rc: &RequestCase, errors: &mut Vec<String>) {
    let context: Context = rc
        .context
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let req = Request {
        action: rc.action.clone(),
        resource: rc.resource.clone(),
        context,
    };
    let identity: Vec<&AttachedPolicy> = principal.policies.iter().collect();
    let resp = evaluate_request(&identity, principal.boundary.as_ref(), &req);
    let what = format!("requests[{i}] {} on `{}`", rc.action, rc.resource);
    let want = rc.decision.decision();
    if resp.decision != want {
        errors.push(format!(
            "{what}: decision {}, expected {}",
            resp.decision.as_str(),
            want.as_str()
        ));
    }
    let mut got: Vec<String> = resp.reasons.iter().map(reason_label).collect();
    let mut expected = rc.reasons.clone();
    got.sort();
    expected.sort();
    if got != expected {
        errors.push(format!("{what}: reasons {got:?}, expected {expected:?}"));
    }
}

/// Expands action patterns, failing on one that names no catalog action.
fn expand(cat: &Catalog, patterns: &[String], errors: &mut Vec<String>) -> ActionSet {
    let mut set = ActionSet::empty(cat);
    for p in patterns {
        let e = cat.expand(p);
        if e.is_empty() {
            errors.push(format!("grants: `{p}` matches no catalog action"));
        }
        set.union_with(&e);
    }
    set
}

fn names(cat: &Catalog, set: &ActionSet) -> String {
    const SHOWN: usize = 8;
    let mut out: Vec<String> = set.iter().take(SHOWN).map(|id| cat.full_name(id)).collect();
    if set.len() > SHOWN {
        out.push(format!("... ({} in all)", set.len()));
    }
    out.join(", ")
}

fn check_grants(
    cat: &Catalog,
    principal: &Principal,
    org: Option<&Organization>,
    g: &GrantsCase,
    errors: &mut Vec<String>,
) {
    let mut eff: EffectiveGrants = effective_grants(cat, &mut Expander::new(cat), principal);
    if let Some(o) = org {
        let eval = OrgEval::new(cat, o);
        eff = apply_org(eff, eval.grants_for(principal));
    }
    let sets: [(&str, &ActionSet, &[String], &[String]); 7] = [
        ("granted", &eff.granted, &g.granted, &g.not_granted),
        (
            "conditional",
            &eff.conditional,
            &g.conditional,
            &g.not_conditional,
        ),
        (
            "partially_denied",
            &eff.partially_denied,
            &g.partially_denied,
            &g.not_partially_denied,
        ),
        ("denied", &eff.denied, &g.denied, &g.not_denied),
        (
            "outside_boundary",
            &eff.outside_boundary,
            &g.outside_boundary,
            &g.not_outside_boundary,
        ),
        (
            "blocked_by_org",
            &eff.blocked_by_org,
            &g.blocked_by_org,
            &g.not_blocked_by_org,
        ),
        (
            "org_limited",
            &eff.org_limited,
            &g.org_limited,
            &g.not_org_limited,
        ),
    ];
    for (label, actual, must, must_not) in sets {
        let mut missing = expand(cat, must, errors);
        missing.subtract(actual);
        if !missing.is_empty() {
            errors.push(format!("grants: {label} lacks {}", names(cat, &missing)));
        }
        let mut extra = expand(cat, must_not, errors);
        extra.intersect_with(actual);
        if !extra.is_empty() {
            errors.push(format!(
                "grants: {label} has {} (listed in not_{label})",
                names(cat, &extra)
            ));
        }
    }
    if let Some(only) = &g.granted_only {
        let mut extra = eff.granted.clone();
        extra.subtract(&expand(cat, only, errors));
        if !extra.is_empty() {
            errors.push(format!(
                "grants: granted has {} beyond granted_only",
                names(cat, &extra)
            ));
        }
    }
}

/// Runs one file's cases; returns how many ran, and pushes failures.
fn run_file(cat: &Catalog, path: &Path, failures: &mut Vec<String>) -> usize {
    let file = path.display();
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            failures.push(format!("{file}: {e}"));
            return 0;
        }
    };
    let corpus: CorpusFile = match yaml_serde::from_str(&text) {
        Ok(c) => c,
        Err(e) => {
            failures.push(format!("{file}: {e}"));
            return 0;
        }
    };
    let mut seen = BTreeSet::new();
    for case in &corpus.cases {
        let mut errors = Vec::new();
        if !seen.insert(case.name.as_str()) {
            errors.push("duplicate case name".to_string());
        }
        if case.requests.is_empty() && case.grants.is_none() {
            errors.push("case has neither `requests` nor `grants`".to_string());
        }
        let whole = case.organization.is_some() || case.resource.is_some() || case.caller.is_some();
        if whole
            && case
                .documentation
                .as_deref()
                .is_none_or(|d| !d.starts_with("https://docs.aws.amazon.com/"))
        {
            errors.push("a case about organizations or resource policies names the AWS documentation page it follows (`documentation: https://docs.aws.amazon.com/...`)".into());
        }
        match principal(case).and_then(|p| organization(case, &p).map(|o| (p, o))) {
            Ok((p, org)) => {
                for (i, rc) in case.requests.iter().enumerate() {
                    if whole {
                        check_access(case, &p, org.as_ref(), i, rc, &mut errors);
                    } else {
                        check_request(&p, i, rc, &mut errors);
                    }
                }
                if let Some(g) = &case.grants {
                    check_grants(cat, &p, org.as_ref(), g, &mut errors);
                }
            }
            Err(e) => errors.push(e),
        }
        failures.extend(
            errors
                .into_iter()
                .map(|e| format!("{file}: case `{}`: {e}", case.name)),
        );
    }
    corpus.cases.len()
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/evaluator");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn evaluator_corpus() {
    let cat = Catalog::embedded();
    let files = corpus_files();
    assert!(!files.is_empty(), "no corpus files in tests/evaluator");
    let mut failures = Vec::new();
    let mut cases = 0;
    for path in &files {
        cases += run_file(cat, path, &mut failures);
    }
    eprintln!(
        "evaluator corpus: {cases} cases in {} files, {} failures",
        files.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} evaluator corpus failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

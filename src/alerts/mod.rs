//! Guardrail alerts as code: for every principal, the EventBridge rules and
//! CloudWatch Logs metric filters (with alarms) that fire when it is refused
//! a call, calls an action its kind's guardrails deny
//! (`rules/guardrails.yaml`), or calls outside its right-sized policy (the
//! recommendation of `recommend`, read, not recomputed).
//!
//! Works on a finished audit and its recommendations; the event names come
//! from the CloudTrail mapping (`usage::mapping`), read backwards. Rendering
//! (Terraform, JSON) is in `render`; `eventbridge` holds the pattern limits
//! and a matcher of EventBridge's documented semantics.

pub mod eventbridge;
mod render;

pub use render::{write_all, AlertsV1, SCHEMA};

use crate::audit::{Audit, AuditedPrincipal};
use crate::catalog::{ActionSet, Catalog};
use crate::model::PrincipalType;
use crate::recommend::Recommendation;
use crate::rules::guardrails::Guardrails;
use crate::usage::mapping::{EventMapper, MappedRef};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// CloudWatch Logs' limit on a metric filter pattern, in characters
/// (PutMetricFilter, `filterPattern`).
pub const FILTER_LIMIT: usize = 1024;
/// Metric filters per log group: a CloudWatch Logs quota that cannot be raised.
pub const FILTERS_PER_LOG_GROUP: usize = 100;

/// Event sources whose events CloudTrail records in us-east-1 only (global
/// service events: IAM, STS's global endpoint, sign-in, CloudFront).
pub const GLOBAL_SOURCES: &[&str] = &[
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "signin.amazonaws.com",
    "cloudfront.amazonaws.com",
];

/// Error codes of refused calls, as the fold counts them (`Outcome::Denied`):
/// as EventBridge conditions (case-insensitive prefixes and suffixes, and
/// exact codes) and as CloudWatch Logs wildcards.
const REFUSED_PREFIX: &[&str] = &["AccessDenied", "Unauthorized"];
const REFUSED_SUFFIX: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedException",
    "NotAuthorized",
    "NotAuthorizedException",
];
const REFUSED_EXACT: &[&str] = &["Forbidden", "ForbiddenException"];

/// The error codes the `refused` alerts match, as one predicate (the
/// patterns above express it for EventBridge and CloudWatch Logs). Wider
/// than what the fold counts as a refusal (`rules/error-codes.yaml`: e.g.
/// Cognito's `NotAuthorizedException` is authentication there): an alert
/// may over-match, a verdict may not. Deriving the patterns from the
/// error-code rules is left to do.
pub fn refused_code(code: &str) -> bool {
    let c = code.to_ascii_lowercase();
    c.contains("accessdenied")
        || c.contains("unauthorized")
        || c == "forbidden"
        || c == "forbiddenexception"
        || c.contains("notauthorized")
}

/// What an alert watches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Purpose {
    /// Calls by the principal that were refused.
    Refused,
    /// Calls of actions its kind's guardrails deny.
    Guardrail,
    /// Calls outside its recommended policy.
    OutsidePolicy,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Refused => "refused",
            Purpose::Guardrail => "guardrail",
            Purpose::OutsidePolicy => "outside-policy",
        }
    }
}

/// One EventBridge rule.
#[derive(Clone, Debug)]
pub struct EventRule {
    pub name: String,
    pub purpose: Purpose,
    pub description: String,
    pub pattern: Value,
    /// The pattern matches events of global services, which CloudTrail
    /// delivers to EventBridge in us-east-1 only.
    pub global_events: bool,
}

/// One CloudWatch Logs metric filter; filters of one purpose add to one metric.
#[derive(Clone, Debug)]
pub struct MetricFilter {
    pub name: String,
    pub purpose: Purpose,
    pub pattern: String,
    pub metric: String,
}

/// One alarm: on a metric, or (outside the policy) on calls less the calls
/// the policy covers.
#[derive(Clone, Debug)]
pub struct Alarm {
    pub name: String,
    pub purpose: Purpose,
    pub description: String,
    /// Metrics by id, and the expression over them (`None`: the one metric).
    pub metrics: Vec<(String, String)>,
    pub expression: Option<String>,
}

/// The alerting of one principal.
#[derive(Clone, Debug)]
pub struct PrincipalAlerts {
    pub principal: String,
    pub name: String,
    pub identity_type: &'static str,
    pub kind: crate::model::Kind,
    /// A short, unique stem for names (`role-ci-deploy-1a2b3c`).
    pub stem: String,
    pub rules: Vec<EventRule>,
    pub filters: Vec<MetricFilter>,
    pub alarms: Vec<Alarm>,
    /// What could not be expressed, and what a reviewer should know.
    pub notes: Vec<String>,
}

/// A group of events: one event source, all its events or some of them.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Branch {
    /// Any event of a source not listed.
    OtherSources(Vec<String>),
    /// Every event of one source.
    Source(String),
    /// These events of one source.
    In(String, Vec<String>),
    /// The events of one source except these.
    NotIn(String, Vec<String>),
}

impl Branch {
    fn eventbridge(&self) -> Value {
        match self {
            Branch::OtherSources(s) => json!({"eventSource": [{"anything-but": s}]}),
            Branch::Source(s) => json!({"eventSource": [s]}),
            // Names ending in `*` are wildcards (versioned names): event
            // names hold no `*` of their own.
            Branch::In(s, n) => {
                let names: Vec<Value> = n
                    .iter()
                    .map(|x| {
                        if is_wildcard(x) {
                            json!({"wildcard": x})
                        } else {
                            json!(x)
                        }
                    })
                    .collect();
                json!({"eventSource": [s], "eventName": names})
            }
            Branch::NotIn(s, n) if n.iter().any(|x| is_wildcard(x)) => {
                // An exact name is a wildcard without `*`.
                json!({"eventSource": [s], "eventName": [{"anything-but": {"wildcard": n}}]})
            }
            Branch::NotIn(s, n) => {
                json!({"eventSource": [s], "eventName": [{"anything-but": n}]})
            }
        }
    }

    fn logs(&self) -> String {
        let eq = |f: &str, v: &str| format!("$.{f} = \"{}\"", logs_escape(v));
        match self {
            Branch::OtherSources(s) => format!(
                "({})",
                s.iter()
                    .map(|x| format!("$.eventSource != \"{}\"", logs_escape(x)))
                    .collect::<Vec<_>>()
                    .join(" && ")
            ),
            Branch::Source(s) => format!("({})", eq("eventSource", s)),
            Branch::In(s, n) => format!(
                "({} && ({}))",
                eq("eventSource", s),
                n.iter()
                    .map(|x| eq("eventName", x))
                    .collect::<Vec<_>>()
                    .join(" || ")
            ),
            Branch::NotIn(s, n) => format!(
                "({} && {})",
                eq("eventSource", s),
                n.iter()
                    .map(|x| format!("$.eventName != \"{}\"", logs_escape(x)))
                    .collect::<Vec<_>>()
                    .join(" && ")
            ),
        }
    }

    fn global(&self) -> bool {
        match self {
            Branch::OtherSources(_) => true,
            Branch::Source(s) | Branch::In(s, _) | Branch::NotIn(s, _) => {
                GLOBAL_SOURCES.contains(&s.as_str())
            }
        }
    }

    /// Splits a positive list in halves (the halves match disjoint events).
    fn halves(&self) -> Option<(Branch, Branch)> {
        match self {
            Branch::In(s, n) if n.len() > 1 => {
                let (a, b) = n.split_at(n.len() / 2);
                Some((
                    Branch::In(s.clone(), a.to_vec()),
                    Branch::In(s.clone(), b.to_vec()),
                ))
            }
            _ => None,
        }
    }
}

/// Whether an event name of a branch is a wildcard (`UpdateFunctionCode2*`).
fn is_wildcard(name: &str) -> bool {
    name.contains('*')
}

/// CloudWatch Logs filter values are double-quoted; CloudTrail names and
/// ARNs hold no quote or backslash, but escape them rather than trust that.
fn logs_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Which events authorize as which actions, read backwards from the mapping.
struct Events<'a> {
    cat: &'static Catalog,
    mapper: &'a EventMapper,
    /// `(source, event name)` of every mapping rule, with its actions
    /// (empty: the event needs no permission, or is not an IAM action).
    exceptions: Vec<(String, String, Vec<crate::catalog::ActionId>)>,
}

impl<'a> Events<'a> {
    fn new(mapper: &'a EventMapper) -> Self {
        let mut exceptions = Vec::new();
        for (key, name, mapped) in mapper.written_events() {
            let ids = match mapped {
                MappedRef::Actions(ids) => ids.to_vec(),
                _ => Vec::new(),
            };
            for source in sources(mapper, key) {
                exceptions.push((source, name.to_string(), ids.clone()));
            }
        }
        Events {
            cat: mapper.catalog(),
            mapper,
            exceptions,
        }
    }

    /// The `(source, event name)` pairs of calls that need only actions of
    /// `set` (calls that need no permission included): what a policy
    /// granting `set` lets through.
    fn covered_by(&self, set: &ActionSet) -> BTreeMap<String, BTreeSet<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for id in set.iter() {
            let a = self.cat.action(id);
            for s in self.mapper.sources_of(a.service) {
                let names = out.entry(s.clone()).or_default();
                names.extend(self.names(a.name));
            }
        }
        for (source, name, ids) in &self.exceptions {
            if ids.iter().all(|&id| set.contains(id))
                && (!ids.is_empty() || out.contains_key(source))
            {
                out.entry(source.clone())
                    .or_default()
                    .extend(self.names(name));
            }
        }
        out
    }

    /// The event names (wildcards ending in `*` included) a call named
    /// `name` is logged under: itself, and with an API version (Lambda's
    /// `UpdateFunctionCode20150331v2`, CloudFront's
    /// `CreateDistribution2020_05_31`), as the mapping strips it.
    fn names(&self, name: &str) -> Vec<String> {
        let mut out = vec![name.to_string()];
        out.extend(self.mapper.versioned_wildcards(name));
        out
    }

    /// The branches of calls that need any action of `set`: a whole source
    /// when `set` holds every action of its service.
    fn touching(&self, set: &ActionSet) -> Vec<Branch> {
        let mut whole: BTreeSet<String> = BTreeSet::new();
        let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut services: BTreeSet<&str> = BTreeSet::new();
        for id in set.iter() {
            services.insert(self.cat.action(id).service);
        }
        for svc in services {
            let all = self.cat.expand(&format!("{svc}:*"));
            let full = all.iter().all(|id| set.contains(id));
            for s in self.mapper.sources_of(svc) {
                if full {
                    whole.insert(s);
                } else {
                    for id in all.iter().filter(|&id| set.contains(id)) {
                        names
                            .entry(s.clone())
                            .or_default()
                            .extend(self.names(self.cat.action(id).name));
                    }
                }
            }
        }
        for (source, name, ids) in &self.exceptions {
            if !whole.contains(source) && ids.iter().any(|&id| set.contains(id)) {
                names
                    .entry(source.clone())
                    .or_default()
                    .extend(self.names(name));
            }
        }
        names.retain(|s, _| !whole.contains(s));
        let mut out: Vec<Branch> = whole.into_iter().map(Branch::Source).collect();
        out.extend(
            names
                .into_iter()
                .map(|(s, n)| Branch::In(s, n.into_iter().collect())),
        );
        out
    }
}

/// The event sources a mapping key stands for: itself when it is a source,
/// else every source of the prefix.
fn sources(mapper: &EventMapper, key: &str) -> Vec<String> {
    if key.contains('.') {
        vec![key.to_ascii_lowercase()]
    } else {
        mapper.sources_of(key)
    }
}

/// The identity part of a pattern and of a filter.
fn identity(p: &AuditedPrincipal) -> (Value, String) {
    let arn = &p.verdicts.principal.arn;
    match p.verdicts.principal.principal_type {
        PrincipalType::User => (
            json!({"type": ["IAMUser"], "arn": [arn]}),
            format!("$.userIdentity.arn = \"{}\"", logs_escape(arn)),
        ),
        PrincipalType::Role => (
            json!({"sessionContext": {"sessionIssuer": {"arn": [arn]}}}),
            format!(
                "$.userIdentity.sessionContext.sessionIssuer.arn = \"{}\"",
                logs_escape(arn)
            ),
        ),
    }
}

/// The EventBridge pattern of a principal's calls, narrowed by `extra`
/// (fields of `detail`) and by one or more branches.
fn pattern(ident: &Value, extra: &[(&str, Value)], branches: &[Branch]) -> Value {
    let mut detail = serde_json::Map::new();
    detail.insert("userIdentity".into(), ident.clone());
    for (k, v) in extra {
        detail.insert((*k).into(), v.clone());
    }
    match branches {
        [] => {}
        [one] => {
            if let Value::Object(b) = one.eventbridge() {
                detail.extend(b);
            }
        }
        many => {
            detail.insert(
                "$or".into(),
                Value::Array(many.iter().map(Branch::eventbridge).collect()),
            );
        }
    }
    json!({"detail-type": ["AWS API Call via CloudTrail"], "detail": Value::Object(detail)})
}

/// Packs branches into as few patterns as fit `limit`; a branch that alone
/// does not fit is split when it can be, else returned apart.
fn pack<T>(
    branches: Vec<Branch>,
    limit: usize,
    build: impl Fn(&[Branch]) -> T,
    size: impl Fn(&T) -> usize,
) -> (Vec<T>, Vec<Branch>) {
    let mut queue: std::collections::VecDeque<Branch> = branches.into();
    let mut out = Vec::new();
    let mut too_big = Vec::new();
    let mut cur: Vec<Branch> = Vec::new();
    while let Some(b) = queue.pop_front() {
        cur.push(b);
        if size(&build(&cur)) <= limit {
            continue;
        }
        let b = cur.pop().unwrap_or_else(|| unreachable!());
        if !cur.is_empty() {
            out.push(build(&cur));
            cur.clear();
            queue.push_front(b);
            continue;
        }
        match b.halves() {
            Some((x, y)) => {
                queue.push_front(y);
                queue.push_front(x);
            }
            None => too_big.push(b),
        }
    }
    if !cur.is_empty() {
        out.push(build(&cur));
    }
    (out, too_big)
}

/// Names: `lp-` and a stem of the principal, unique by a hash of its ARN,
/// within EventBridge's 64 characters of `[.-_A-Za-z0-9]`.
fn stem(p: &AuditedPrincipal) -> String {
    use sha2::{Digest, Sha256};
    let pr = &p.verdicts.principal;
    let clean: String = pr
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(32)
        .collect();
    let h = Sha256::digest(pr.arn.as_bytes());
    format!(
        "{}-{clean}-{:02x}{:02x}{:02x}",
        pr.principal_type.as_str(),
        h[0],
        h[1],
        h[2]
    )
}

/// What the outside-policy alerts are made from.
#[derive(Clone, Copy, Debug)]
pub enum Outside<'r> {
    /// The recommended policies (`recommend`'s, read, not recomputed).
    Policies(&'r [Recommendation]),
    /// None: the logs hold no evidence of the audited account (the reason,
    /// [`crate::audit::Audit::evidence_guard`]'s), so a recommendation would
    /// allow nothing and its alert fire on every call. The refused and
    /// guardrail alerts, which need no evidence, are still written.
    NoEvidence(&'r str),
}

/// The alerting of every user and role (service-linked roles left out:
/// AWS owns their policies).
pub fn alerts(
    audit: &Audit,
    outside: Outside,
    guardrails: &Guardrails,
    mapper: &EventMapper,
) -> Vec<PrincipalAlerts> {
    let cat = audit.catalog;
    let events = Events::new(mapper);
    let recs = match outside {
        Outside::Policies(r) => r,
        Outside::NoEvidence(_) => &[],
    };
    let by_arn: BTreeMap<&str, &Recommendation> =
        recs.iter().map(|r| (r.principal.as_str(), r)).collect();
    audit
        .principals
        .iter()
        .filter(|p| !p.verdicts.principal.path.starts_with("/aws-service-role/"))
        .map(|p| {
            one(
                cat,
                &events,
                p,
                match outside {
                    Outside::Policies(_) => {
                        Ok(by_arn.get(p.verdicts.principal.arn.as_str()).copied())
                    }
                    Outside::NoEvidence(gap) => Err(gap),
                },
                guardrails,
            )
        })
        .collect()
}

fn refused_condition() -> Value {
    let mut c: Vec<Value> = REFUSED_PREFIX
        .iter()
        .map(|x| json!({"prefix": {"equals-ignore-case": x}}))
        .collect();
    c.extend(
        REFUSED_SUFFIX
            .iter()
            .map(|x| json!({"suffix": {"equals-ignore-case": x}})),
    );
    c.extend(REFUSED_EXACT.iter().map(|x| json!(x)));
    Value::Array(c)
}

fn refused_logs() -> String {
    let mut c: Vec<String> = REFUSED_PREFIX
        .iter()
        .map(|x| format!("$.errorCode = \"{x}*\""))
        .collect();
    c.extend(
        REFUSED_SUFFIX
            .iter()
            .map(|x| format!("$.errorCode = \"*{x}\"")),
    );
    c.extend(
        REFUSED_EXACT
            .iter()
            .map(|x| format!("$.errorCode = \"{x}\"")),
    );
    c.join(" || ")
}

/// The actions a recommended policy allows (its Allow statements' actions,
/// wildcards expanded).
fn allowed(cat: &Catalog, doc: &Value) -> ActionSet {
    let mut pats: Vec<String> = Vec::new();
    for st in doc["Statement"].as_array().into_iter().flatten() {
        if st["Effect"] != "Allow" {
            continue;
        }
        match &st["Action"] {
            Value::String(s) => pats.push(s.clone()),
            Value::Array(a) => pats.extend(a.iter().filter_map(|v| v.as_str().map(String::from))),
            _ => {}
        }
    }
    let mut set = ActionSet::empty(cat);
    for p in pats {
        set.union_with(&cat.expand(&p));
    }
    set
}

fn one(
    cat: &'static Catalog,
    events: &Events,
    p: &AuditedPrincipal,
    rec: Result<Option<&Recommendation>, &str>,
    guardrails: &Guardrails,
) -> PrincipalAlerts {
    let pr = &p.verdicts.principal;
    let stem = stem(p);
    let (ident, ident_logs) = identity(p);
    let api = "$.eventType = \"AwsApiCall\"";
    let mut out = PrincipalAlerts {
        principal: pr.arn.clone(),
        name: pr.name.clone(),
        identity_type: pr.principal_type.as_str(),
        kind: p.kind,
        stem: stem.clone(),
        rules: Vec::new(),
        filters: Vec::new(),
        alarms: Vec::new(),
        notes: Vec::new(),
    };
    let rule_name = |purpose: Purpose, i: usize| {
        format!(
            "lp-{stem}-{}{}",
            purpose.as_str(),
            if i == 0 {
                String::new()
            } else {
                format!("-{}", i + 1)
            }
        )
    };

    // Refused calls.
    out.rules.push(EventRule {
        name: rule_name(Purpose::Refused, 0),
        purpose: Purpose::Refused,
        description: format!("Calls by {} refused for lack of permission", pr.arn),
        pattern: pattern(&ident, &[("errorCode", refused_condition())], &[]),
        global_events: true,
    });
    let metric = |purpose: Purpose| format!("{stem}-{}", purpose.as_str());
    out.filters.push(MetricFilter {
        name: rule_name(Purpose::Refused, 0),
        purpose: Purpose::Refused,
        pattern: format!("{{ ({ident_logs}) && ({}) }}", refused_logs()),
        metric: metric(Purpose::Refused),
    });
    out.alarms.push(Alarm {
        name: rule_name(Purpose::Refused, 0),
        purpose: Purpose::Refused,
        description: format!("{} was refused a call", pr.arn),
        metrics: vec![("m".into(), metric(Purpose::Refused))],
        expression: None,
    });

    // Guardrailed actions.
    let mut guarded = ActionSet::empty(cat);
    let mut ids = Vec::new();
    for g in guardrails.for_kind(p.kind) {
        if g.resources_except.is_empty() {
            guarded.union_with(&g.actions);
            ids.push(g.id.as_str());
        } else {
            out.notes.push(format!(
                "guardrail `{}` allows {}: event patterns cannot tell those resources apart, so its calls are alerted only when refused",
                g.id,
                g.resources_except.join(", ")
            ));
        }
    }
    if !guarded.is_empty() {
        let branches = events.touching(&guarded);
        let desc = format!(
            "Calls by {} of actions its guardrails deny ({})",
            pr.arn,
            ids.join(", ")
        );
        push_rules(
            &mut out,
            Purpose::Guardrail,
            &desc,
            &ident,
            branches.clone(),
            &rule_name,
        );
        let (filters, big) = pack(
            branches,
            FILTER_LIMIT,
            |b| {
                format!(
                    "{{ ({ident_logs}) && {api} && ({}) }}",
                    b.iter().map(Branch::logs).collect::<Vec<_>>().join(" || ")
                )
            },
            |s| s.chars().count(),
        );
        note_too_big(&mut out, Purpose::Guardrail, "metric filter", &big);
        for (i, f) in filters.into_iter().enumerate() {
            out.filters.push(MetricFilter {
                name: rule_name(Purpose::Guardrail, i),
                purpose: Purpose::Guardrail,
                pattern: f,
                metric: metric(Purpose::Guardrail),
            });
        }
        out.alarms.push(Alarm {
            name: rule_name(Purpose::Guardrail, 0),
            purpose: Purpose::Guardrail,
            description: desc,
            metrics: vec![("m".into(), metric(Purpose::Guardrail))],
            expression: None,
        });
    }

    // Calls outside the recommended policy.
    match rec {
        Err(gap) => out.notes.push(format!(
            "no outside-policy alert: {gap} (refused and guardrail alerts need no evidence; `--allow-empty-evidence` writes it anyway)"
        )),
        Ok(None) => out
            .notes
            .push("no recommended policy for this principal: no outside-policy alert".into()),
        Ok(Some(r)) => {
            let inside = events.covered_by(&allowed(cat, &r.document));
            let sources: Vec<String> = inside.keys().cloned().collect();
            let mut branches = vec![Branch::OtherSources(sources)];
            branches.extend(
                inside
                    .iter()
                    .map(|(s, n)| Branch::NotIn(s.clone(), n.iter().cloned().collect())),
            );
            let desc = format!(
                "Calls by {} of actions outside its recommended policy ({}/{}.json)",
                pr.arn,
                r.identity_type.as_str(),
                r.name
            );
            if inside.is_empty() {
                // The policy allows nothing: every call is outside it.
                out.rules.push(EventRule {
                    name: rule_name(Purpose::OutsidePolicy, 0),
                    purpose: Purpose::OutsidePolicy,
                    description: desc.clone(),
                    pattern: pattern(&ident, &[], &[]),
                    global_events: true,
                });
            } else {
                push_rules(
                    &mut out,
                    Purpose::OutsidePolicy,
                    &desc,
                    &ident,
                    branches,
                    &rule_name,
                );
            }
            // Metric filters cannot say "anything but": count all calls and
            // the calls the policy covers, and alarm on the difference.
            let calls = format!("{stem}-calls");
            let covered = format!("{stem}-covered");
            out.filters.push(MetricFilter {
                name: format!("lp-{stem}-calls"),
                purpose: Purpose::OutsidePolicy,
                pattern: format!("{{ ({ident_logs}) && {api} }}"),
                metric: calls.clone(),
            });
            let positive: Vec<Branch> = inside
                .iter()
                .map(|(s, n)| Branch::In(s.clone(), n.iter().cloned().collect()))
                .collect();
            let (filters, big) = pack(
                positive,
                FILTER_LIMIT,
                |b| {
                    format!(
                        "{{ ({ident_logs}) && {api} && ({}) }}",
                        b.iter().map(Branch::logs).collect::<Vec<_>>().join(" || ")
                    )
                },
                |s| s.chars().count(),
            );
            note_too_big(&mut out, Purpose::OutsidePolicy, "metric filter", &big);
            for (i, f) in filters.into_iter().enumerate() {
                out.filters.push(MetricFilter {
                    name: format!(
                        "lp-{stem}-covered{}",
                        if i == 0 {
                            String::new()
                        } else {
                            format!("-{}", i + 1)
                        }
                    ),
                    purpose: Purpose::OutsidePolicy,
                    pattern: f,
                    metric: covered.clone(),
                });
            }
            let covers_some = out.filters.iter().any(|f| f.metric == covered);
            out.alarms.push(Alarm {
                name: rule_name(Purpose::OutsidePolicy, 0),
                purpose: Purpose::OutsidePolicy,
                description: desc,
                metrics: if covers_some {
                    vec![("calls".into(), calls), ("covered".into(), covered)]
                } else {
                    vec![("calls".into(), calls)]
                },
                expression: covers_some.then(|| "calls - FILL(covered, 0)".into()),
            });
        }
    }
    out
}

fn note_too_big(out: &mut PrincipalAlerts, purpose: Purpose, what: &str, big: &[Branch]) {
    for b in big {
        let source = match b {
            Branch::OtherSources(_) => "other event sources".to_string(),
            Branch::Source(s) | Branch::In(s, _) | Branch::NotIn(s, _) => format!("`{s}`"),
        };
        out.notes.push(format!(
            "{}: the {what} for {source} exceeds the size limit even alone and is left out (raise the EventBridge pattern quota to 4,096, or rely on the other form)",
            purpose.as_str()
        ));
    }
}

fn push_rules(
    out: &mut PrincipalAlerts,
    purpose: Purpose,
    desc: &str,
    ident: &Value,
    branches: Vec<Branch>,
    name: &dyn Fn(Purpose, usize) -> String,
) {
    if branches.is_empty() {
        return;
    }
    let (patterns, big) = pack(
        branches,
        eventbridge::PATTERN_LIMIT,
        |b| (pattern(ident, &[], b), b.iter().any(Branch::global)),
        |(p, _)| eventbridge::size(p),
    );
    note_too_big(out, purpose, "event pattern", &big);
    let n = patterns.len();
    for (i, (p, global)) in patterns.into_iter().enumerate() {
        out.rules.push(EventRule {
            name: name(purpose, i),
            purpose,
            description: if n > 1 {
                format!("{desc}, part {} of {n}", i + 1)
            } else {
                desc.to_string()
            },
            pattern: p,
            global_events: global,
        });
    }
}

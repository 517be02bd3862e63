//! Findings: classification of principals, risk data, guardrails and the
//! rule registry, and the rule files they are read from (`files`).
//!
//! Every rule is a small type implementing `Rule`, registered once in
//! `REGISTRY`; ids are kebab-case and never reused. Findings are plain data;
//! renderers decide how to show them. `docs/rules.md` is generated from the
//! registry (`leastpriv rules --format markdown`) and a test keeps it in step.
//!
//! Rules read the verdicts (`verdict`) and what comes before them; they may
//! not import the audit, the recommendations or any renderer.

pub mod classify;
pub mod files;
pub mod guardrails;
pub mod pipelines;
pub mod risk;

mod agentcore;
pub use agentcore::is_agent_data_event;
mod agents;
mod category;
mod change_outside_pipeline;
mod dormant;
pub mod grant_scope;
mod guardrail_rules;
pub mod provenance;
pub mod techniques;
pub mod trust_rules;
mod unused_permissions;
mod used_without_grant;

use crate::catalog::{ActionId, Catalog};
use crate::config::Settings;
use crate::ingest::credential_report::CredentialRow;
use crate::model::Kind;
use crate::verdict::PrincipalVerdicts;
use crate::verdict::Verdict;
use guardrails::Guardrails;
use risk::{Breadth, Risk};
use std::sync::Arc;

/// How urgent a finding is. Ordered: `Critical` is the greatest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Some(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

/// What a rule is, for the registry, `docs/rules.md` and SARIF.
#[derive(Clone, Copy, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub title: &'static str,
    pub default_severity: Severity,
    pub rationale: &'static str,
    pub remediation: &'static str,
}

/// One finding, with the evidence that supports it.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    /// Orders findings of one severity: higher is more urgent.
    pub score: f64,
    /// ARN of the principal the finding is about: one copy for the
    /// findings of a principal.
    pub principal: Arc<str>,
    pub kind: Kind,
    /// Catalog ids: 4 bytes each, where a name (even a shared one) took 16;
    /// a category finding lists every granted action of its category. Shared
    /// by the findings with the same list ([`SharedText`]).
    pub actions: Arc<[ActionId]>,
    pub message: String,
    /// Facts from the inputs that support the finding (policies, records,
    /// counts), as the rule wrote them; reports show them with the granting
    /// statements' lines ([`Finding::evidence_lines`]).
    pub evidence: Evidence,
    /// The rule's remediation, or one written for this finding.
    pub remediation: std::borrow::Cow<'static, str>,
    /// A policy statement that closes the finding, when there is one; shared
    /// by the findings a guardrail closes.
    pub fix: Option<std::sync::Arc<serde_json::Value>>,
    /// The identity-policy statements that grant the finding's actions
    /// (added by `provenance` after the rules ran).
    pub grants: Vec<provenance::GrantSource>,
    /// Privilege-escalation techniques the principal holds, from
    /// `rules/privesc-techniques.yaml`.
    pub techniques: Vec<std::sync::Arc<techniques::Technique>>,
}

impl Finding {
    /// The finding's evidence, as every report shows it: the rule's lines,
    /// then one per granting statement ([`provenance::evidence_lines`]).
    pub fn evidence_lines<'a>(
        &'a self,
        cat: &'a Catalog,
    ) -> impl Iterator<Item = std::borrow::Cow<'a, str>> + Clone + 'a {
        use std::borrow::Cow;
        self.evidence
            .iter()
            .map(Cow::Borrowed)
            .chain(provenance::evidence_lines(cat, &self.grants).map(Cow::Owned))
    }

    /// Whether [`Finding::evidence_lines`] yields any line.
    pub fn has_evidence(&self) -> bool {
        !self.evidence.is_empty() || !self.grants.is_empty()
    }
}

/// A finding's evidence lines. Each line is shared: the findings of
/// principals with the same policies repeat most of their lines (`s3:GetObject
/// on * (never used; score 100)`, a technique's description), and an
/// organization of 100,000 principals had 692,354 findings holding 418 MB of
/// message and evidence text, 70% of it repeated. Lines are built as they
/// come and made to point at one copy ([`SharedText`]) once the rules of a
/// chunk of principals have run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    lines: Vec<Arc<str>>,
}

impl Evidence {
    pub fn push(&mut self, line: &str) {
        self.lines.push(Arc::from(line));
    }

    /// Adds lines, growing the list by exactly their number: pushing one at
    /// a time onto a finished finding's evidence would double its capacity.
    pub fn append(&mut self, lines: &[String]) {
        self.lines.reserve_exact(lines.len());
        for l in lines {
            self.push(l);
        }
    }

    /// The lines, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.lines.iter().map(|l| &**l)
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Evidence {
    fn from_iter<I: IntoIterator<Item = S>>(lines: I) -> Self {
        let mut lines: Vec<Arc<str>> = lines.into_iter().map(|l| Arc::from(l.as_ref())).collect();
        lines.shrink_to_fit();
        Evidence { lines }
    }
}

impl From<Vec<String>> for Evidence {
    fn from(lines: Vec<String>) -> Self {
        lines.into_iter().collect()
    }
}

/// One copy of each evidence line and action list of a rules run, which
/// the findings point at: most of them repeat from one principal to the
/// next (5,838 distinct action lists among 138,010 findings, 154,000
/// distinct lines among 919,000, in an organization of 20,000 roles).
/// Dropped with the run; the findings keep what they point at.
#[derive(Default)]
pub struct SharedText {
    lines: std::collections::HashSet<Arc<str>>,
    actions: std::collections::HashSet<Arc<[ActionId]>>,
}

impl SharedText {
    /// Points `f`'s lines and actions at the copies already seen, keeping
    /// its own as the copies of those not seen yet.
    pub fn share(&mut self, f: &mut Finding) {
        for l in &mut f.evidence.lines {
            match self.lines.get(&**l) {
                Some(seen) => *l = Arc::clone(seen),
                None => {
                    self.lines.insert(Arc::clone(l));
                }
            }
        }
        match self.actions.get(&*f.actions) {
            Some(seen) => f.actions = Arc::clone(seen),
            None => {
                self.actions.insert(Arc::clone(&f.actions));
            }
        }
        for g in &mut f.grants {
            match self.actions.get(&*g.actions) {
                Some(seen) => g.actions = Arc::clone(seen),
                None => {
                    self.actions.insert(Arc::clone(&g.actions));
                }
            }
        }
    }
}

/// What rules may look at besides the principal itself.
pub struct RuleContext<'a> {
    pub catalog: &'a Catalog,
    pub risk: &'a Risk,
    pub guardrails: &'a Guardrails,
    pub pipelines: &'a pipelines::Pipelines,
    /// How calls were made, and which channels are a person's.
    pub channels: &'a crate::usage::channel::Channels,
    pub techniques: &'a techniques::Techniques,
    pub settings: &'a Settings,
    /// The report's time, Unix seconds: ages are measured against it.
    pub now: i64,
    /// The evidence window, Unix seconds, if there is one.
    pub window: Option<(i64, i64)>,
    /// The organization and its SCPs and RCPs, when the snapshot has them.
    pub org: Option<&'a crate::model::Organization>,
    /// Who can assume each role.
    pub trust: &'a crate::policy::trust::TrustGraph,
    /// Chains of assumptions to administrative and secret-reading roles.
    pub chains: &'a trust_rules::Chains,
}

/// One principal as the rules see it.
pub struct Subject<'a> {
    pub verdicts: &'a PrincipalVerdicts,
    pub kind: Kind,
    pub credentials: Option<&'a CredentialRow>,
}

impl Subject<'_> {
    pub fn name(&self) -> &str {
        &self.verdicts.principal.name
    }

    pub fn arn(&self) -> &str {
        &self.verdicts.principal.arn
    }

    /// The exposure multiplier: long-lived keys and external trust raise risk.
    pub fn exposure(&self, risk: &Risk) -> (f64, Vec<String>) {
        let mut m = 1.0;
        let mut why = Vec::new();
        if let Some(c) = self.credentials {
            let n = c.active_keys().count();
            if n > 0 {
                m *= risk.scoring.exposure.long_lived_keys;
                why.push(format!("{n} active long-lived access key(s)"));
            }
        }
        if let Some(t) = &self.verdicts.principal.trust_policy {
            let trusted = classify::trusted_principals(t);
            let own = self.arn().split(':').nth(4).unwrap_or("").to_string();
            let external: Vec<&String> = trusted
                .aws
                .iter()
                .filter(|a| *a == "*" || !a.contains(&own))
                .chain(
                    trusted
                        .federated
                        .iter()
                        .filter(|f| f.contains(":oidc-provider/") || !f.starts_with("arn:")),
                )
                .collect();
            if !external.is_empty() {
                m *= risk.scoring.exposure.external_trust;
                why.push(format!(
                    "trust policy admits {}",
                    external
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        (m, why)
    }

    /// The verdict of an action (`verdict::PrincipalVerdicts::verdict`).
    pub fn verdict(&self, id: ActionId) -> Verdict {
        self.verdicts.verdict(id)
    }

    /// Granted resource patterns of an action and their breadth.
    pub fn breadth(&self, cat: &Catalog, id: ActionId) -> (Vec<String>, Breadth) {
        let r = crate::verdict::granted_resources(
            cat,
            &self.verdicts.principal,
            &self.verdicts.grants,
            id,
        );
        let b = Breadth::of(&r);
        (r, b)
    }

    /// The breadth alone, as [`Subject::breadth`] gives it, without building
    /// the pattern list: the category rules score every granted action of a
    /// category (thousands for a broad role) and list only a dozen.
    pub fn breadth_only(&self, cat: &Catalog, id: ActionId) -> Breadth {
        use crate::model::{Effect, ResourceSpec};
        use crate::policy::grants::{resource_applies, statement};
        use crate::policy::PolicyRef;
        // Patterns scoped by a session variable do not widen (`Breadth::of`).
        let scoped = |p: &str| p.contains("${aws:");
        let mut b = Breadth::Specific;
        for c in self.verdicts.grants.reasons(id) {
            if c.effect != Effect::Allow || c.at.policy == PolicyRef::Boundary {
                continue;
            }
            let Some(st) = statement(&self.verdicts.principal, c.at) else {
                continue;
            };
            match &st.resources {
                ResourceSpec::Resource(pats) => {
                    for p in pats.iter().filter(|p| !scoped(p)) {
                        if !resource_applies(cat, id, p) {
                            continue;
                        }
                        if p == "*" {
                            return Breadth::All;
                        }
                        if p.contains('*') || p.contains('?') {
                            b = Breadth::Wildcard;
                        }
                    }
                }
                ResourceSpec::NotResource(pats) => {
                    if !pats.iter().any(|p| scoped(p)) {
                        return Breadth::All;
                    }
                }
                ResourceSpec::None => return Breadth::All,
            }
        }
        b
    }
}

/// A check over one principal.
pub trait Rule: Sync {
    fn meta(&self) -> &RuleMeta;
    fn check(&self, ctx: &RuleContext, s: &Subject, out: &mut Vec<Finding>);
}

/// Every rule, in one explicit list, secrets first.
pub static REGISTRY: &[&dyn Rule] = &[
    &category::SECRETS_ACCESS,
    &category::CREDENTIAL_MINTING,
    &category::PRIVILEGE_ESCALATION,
    &category::DATA_EXFILTRATION,
    &category::RESOURCE_EXPOSURE,
    &guardrail_rules::MissingGuardrail,
    &guardrail_rules::GuardrailHit,
    &trust_rules::UnguardedCrossAccountTrust,
    &trust_rules::UnsafeOidcTrust,
    &agents::SuperUserAgent,
    &agents::AgentWithoutSourceIdentity,
    &agentcore::AgentRoleShared,
    &agentcore::PassRoleToAgentCore,
    &agentcore::AgentCallsAsExecutionRole,
    &agentcore::AgentUseUnobservable,
    &change_outside_pipeline::ChangeOutsidePipeline,
    &dormant::DormantPrincipal,
    &dormant::StaleAccessKey,
    &dormant::StaleConsolePassword,
    &unused_permissions::UnusedPermissions,
    &used_without_grant::UsedWithoutGrant,
];

/// Looks a rule up by id.
pub fn rule(id: &str) -> Option<&'static RuleMeta> {
    REGISTRY.iter().map(|r| r.meta()).find(|m| m.id == id)
}

/// Runs every rule over every principal; most urgent first.
pub fn evaluate(ctx: &RuleContext, subjects: &[Subject]) -> Vec<Finding> {
    use rayon::prelude::*;
    // Principals are independent and the final sort fixes the order, so the
    // rules run in parallel (they were a third of a 10,000-principal audit).
    // They run a chunk of principals at a time, and each chunk's findings
    // move into the one list before the next chunk runs: collecting every
    // principal's findings first and joining them after held two copies of
    // a 70,000-finding list at the audit's peak of memory.
    const CHUNK: usize = 256;
    let mut out: Vec<Finding> = Vec::new();
    let mut shared = SharedText::default();
    for (i, chunk) in subjects.chunks(CHUNK).enumerate() {
        let parts: Vec<Vec<Finding>> = chunk
            .par_iter()
            .map(|s| {
                let mut found = Vec::new();
                for r in REGISTRY {
                    r.check(ctx, s, &mut found);
                }
                provenance::attach(ctx, s, &mut found);
                // One copy of the ARN for the principal's findings.
                let arn: Arc<str> = Arc::from(s.arn());
                for f in &mut found {
                    if *f.principal == *arn {
                        f.principal = Arc::clone(&arn);
                    }
                }
                found
            })
            .collect();
        let n: usize = parts.iter().map(Vec::len).sum();
        if out.capacity() - out.len() < n {
            // Room for what the principals seen so far predict, not a
            // doubling: a doubled list copies what it holds and leaves up
            // to half of it unused.
            let seen = (i + 1) * CHUNK;
            let predicted = (out.len() + n) * subjects.len() / seen.min(subjects.len());
            out.reserve_exact(predicted.max(out.len() + n) - out.len());
        }
        for mut f in parts.into_iter().flatten() {
            shared.share(&mut f);
            out.push(f);
        }
    }
    drop(shared);
    sort_findings(ctx.catalog, &mut out);
    out
}

/// Severity, then score, then principal and rule: a stable, most-urgent-first order.
pub fn sort_findings(cat: &Catalog, f: &mut [Finding]) {
    // By name, not id: ids order by (service, name), and `s3` < `s3-outposts`
    // as services while `s3-outposts:` < `s3:` as names.
    fn names<'a>(cat: &'a Catalog, f: &'a Finding) -> impl Iterator<Item = &'a str> {
        f.actions.iter().map(move |&id| cat.name(id))
    }
    f.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.principal.cmp(&b.principal))
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| names(cat, a).cmp(names(cat, b)))
    });
}

/// The markdown reference of every rule (`docs/rules.md`).
pub fn docs_markdown() -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated from the rule registry by `leastpriv rules --format markdown`; a test keeps this file in step with the code.\n\n",
    );
    out.push_str("| id | title | default severity |\n|---|---|---|\n");
    for r in REGISTRY {
        let m = r.meta();
        out.push_str(&format!(
            "| [`{}`](#{}) | {} | {} |\n",
            m.id,
            m.id,
            m.title,
            m.default_severity.as_str()
        ));
    }
    for r in REGISTRY {
        let m = r.meta();
        out.push_str(&format!(
            "\n## {}\n\n**{}** (default severity: {})\n\n**Why.** {}\n\n**Fix.** {}\n",
            m.id,
            m.title,
            m.default_severity.as_str(),
            m.rationale,
            m.remediation
        ));
    }
    out
}

#[cfg(test)]
mod evidence_tests {
    use super::*;

    #[test]
    fn lines_come_back_as_they_went_in() {
        let lines = vec![
            "first".to_string(),
            String::new(),
            "with\nnewline and ünïcode".to_string(),
            "last".to_string(),
        ];
        let e: Evidence = lines.clone().into();
        assert_eq!(e.len(), 4);
        assert!(e.iter().eq(lines.iter().map(String::as_str)));
        assert!(Evidence::default().is_empty());
        assert_eq!(Evidence::default().iter().count(), 0);
    }

    fn finding(principal: &str, lines: &[&str], actions: &[u32]) -> Finding {
        Finding {
            rule: "unused-permissions",
            severity: Severity::Low,
            score: 1.0,
            principal: principal.into(),
            kind: Kind::Npe,
            actions: actions.iter().map(|&i| ActionId(i)).collect(),
            message: format!("{principal} has unused permissions"),
            evidence: lines.iter().collect(),
            remediation: "remove them".into(),
            fix: None,
            grants: Vec::new(),
            techniques: Vec::new(),
        }
    }

    #[test]
    fn shared_text_keeps_one_copy_of_what_findings_repeat() {
        let mut a = finding("a", &["on * (never used)", "only a"], &[1, 2]);
        let mut b = finding("b", &["on * (never used)", "only b"], &[1, 2]);
        let mut c = finding("c", &["only a"], &[2]);
        let before = [a.clone(), b.clone(), c.clone()];
        let mut shared = SharedText::default();
        for f in [&mut a, &mut b, &mut c] {
            shared.share(f);
        }
        drop(shared);
        // The same content, pointing at one copy where it repeats.
        assert_eq!([a.clone(), b.clone(), c.clone()], before);
        assert!(Arc::ptr_eq(&a.evidence.lines[0], &b.evidence.lines[0]));
        assert!(Arc::ptr_eq(&a.evidence.lines[1], &c.evidence.lines[0]));
        assert!(!Arc::ptr_eq(&a.evidence.lines[1], &b.evidence.lines[1]));
        assert!(Arc::ptr_eq(&a.actions, &b.actions));
        assert!(!Arc::ptr_eq(&a.actions, &c.actions));
        // Without granting statements, the reports' lines are the rule's.
        let cat = Catalog::embedded();
        assert!(a.evidence_lines(cat).eq(a.evidence.iter()));
        assert!(a.has_evidence() && !finding("d", &[], &[]).has_evidence());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `breadth_only` is `breadth` without the list, on the demo account and
    /// on resource elements of every shape.
    #[test]
    fn breadth_only_agrees_with_breadth() {
        let cat = Catalog::embedded();
        let obs = crate::verdict::observability::Observability::embedded(cat).unwrap();
        let shapes = br#"{"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::1:role/r","RolePolicyList":[
            {"PolicyName":"a","PolicyDocument":{"Statement":[
                {"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::logs-?/*","arn:aws:s3:::home/${aws:username}/*","arn:aws:s3:::fixed"]},
                {"Effect":"Allow","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:1:secret:app/${aws:PrincipalTag/team}-*"},
                {"Effect":"Allow","Action":"kms:*","NotResource":"arn:aws:kms:*:1:key/k"},
                {"Effect":"Allow","Action":"ssm:*","NotResource":"arn:aws:ssm:*:1:parameter/${aws:username}"},
                {"Effect":"Allow","Action":"iam:PassRole"},
                {"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"},
                {"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::fixed/*"}]}}]}]}"#;
        let demo = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo/iam.json"
        ))
        .unwrap();
        let mut compared = 0;
        let mut seen = std::collections::BTreeSet::new();
        for text in [&shapes[..], &demo[..]] {
            let account =
                crate::ingest::iam::parse(text, std::path::Path::new("iam.json")).unwrap();
            let (audits, _) = crate::verdict::principal_verdicts(
                cat,
                &obs,
                &crate::ingest::trails::TrailCoverage::assumed_management_only(),
                account.principals.clone(),
                Default::default(),
                &Default::default(),
            );
            for a in &audits {
                let s = Subject {
                    verdicts: a,
                    kind: Kind::Npe,
                    credentials: None,
                };
                for id in a.grants.granted.iter() {
                    seen.insert(s.breadth_only(cat, id) as u8);
                    assert_eq!(
                        s.breadth_only(cat, id),
                        s.breadth(cat, id).1,
                        "{} {}",
                        a.principal.name,
                        cat.full_name(id)
                    );
                    compared += 1;
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
        assert_eq!(seen.len(), 3, "all, wildcard and specific breadths met");
    }

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = REGISTRY.iter().map(|r| r.meta().id).collect();
        for id in &ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }

    #[test]
    fn docs_are_in_step_with_the_registry() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            on_disk,
            docs_markdown(),
            "docs/rules.md is stale: run `leastpriv rules --format markdown > docs/rules.md`"
        );
    }
}
